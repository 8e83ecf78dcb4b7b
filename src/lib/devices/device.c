/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "device.h"
#include "fileio.h"
#include "hd-error.h"
#include "hint.h"
#include "macros.h"
#include "names.h"
#include "parse.h"

/* The full config space of a PCIe function; conventional PCI has 256 bytes. */
#define CONFIG_SPACE_MAX 4096
/* The standard header: what unprivileged readers get and all HD_FIELD_HEADER needs. */
#define CONFIG_HEADER_LEN 64

char *hd_device_attr_path(const HdAddress *address, const char *attr)
{
        char name[HD_ADDRESS_STRLEN];

        hd_address_format(address, name);
        if (!attr)
                return g_strdup_printf("sys/bus/pci/devices/%s", name);
        return g_strdup_printf("sys/bus/pci/devices/%s/%s", name, attr);
}

/* Numeric attributes are a few bytes; anything longer does not parse anyway. */
#define NUMBER_ATTR_MAX 64

static int read_hex_attr(int dfd, const char *name, guint64 max)
{
        char s[NUMBER_ATTR_MAX];
        guint64 v;

        if (hd_read_attr_buf_at(dfd, name, s, sizeof(s)) < 0 || !hd_parse_hex(s, max, &v))
                return -1;
        return (int)v;
}

static int read_int_attr(int dfd, const char *name, gint64 min, gint64 max)
{
        char s[NUMBER_ATTR_MAX];
        gint64 v;

        if (hd_read_attr_buf_at(dfd, name, s, sizeof(s)) < 0 || !hd_parse_int(s, min, max, &v))
                return -1;
        return (int)v;
}

/* Basename of a symlink that must name a PCI device; NULL otherwise. */
static char *read_address_link(int dfd, const char *name)
{
        char base[NAME_MAX + 1];
        HdAddress a;
        char buf[HD_ADDRESS_STRLEN];

        if (hd_readlink_basename_buf_at(dfd, name, base, sizeof(base)) < 0 ||
            !hd_address_parse_sysfs_name(base, &a))
                return NULL;
        return g_strdup(hd_address_format(&a, buf));
}

/* The ids come from the standard config header when it is there: one read gives vendor,
 * device, revision and subsystem ids, where the attribute files cost an open each (lspci does
 * the same). The header holds what the kernel holds (pci_setup_device() reads them from it),
 * except where it cannot: a VF reads 0xffff as vendor and device (the kernel takes them from
 * the PF's SR-IOV capability), and bridges keep their subsystem ids in a capability. Those,
 * and any device whose header is missing or short, use the attribute files. The class always
 * comes from its attribute: the kernel fixes wrong class codes with quirks. */
static void load_ids(HdDevice *dev, int dfd, GBytes *header, const HdDevice *pf)
{
        HdConfig cfg = { NULL, 0 };
        guint16 vendor = 0xffff, device = 0xffff, sub_vendor = 0, sub_device = 0;
        gboolean type0 = FALSE;

        if (header)
                cfg.data = g_bytes_get_data(header, &cfg.len);
        type0 = cfg.len >= CONFIG_HEADER_LEN && hd_config_header_type(&cfg) == 0 &&
                hd_config_read16(&cfg, 0x00, &vendor) && hd_config_read16(&cfg, 0x02, &device) &&
                hd_config_read16(&cfg, 0x2c, &sub_vendor) &&
                hd_config_read16(&cfg, 0x2e, &sub_device);
        if (type0 && vendor != 0xffff && vendor != 0x0000) {
                dev->vendor_id = vendor;
                dev->device_id = device;
        } else if (pf && pf->vendor_id >= 0 && pf->sriov_vf_device >= 0) {
                /* What the kernel does for a VF (pci_iov_add_virtfn()): the PF's vendor and
                 * the VF device id of the PF's SR-IOV capability. */
                dev->vendor_id = pf->vendor_id;
                dev->device_id = pf->sriov_vf_device;
        } else {
                dev->vendor_id = read_hex_attr(dfd, "vendor", 0xffff);
                dev->device_id = read_hex_attr(dfd, "device", 0xffff);
        }
        if (type0) {
                dev->subsystem_vendor_id = sub_vendor;
                dev->subsystem_device_id = sub_device;
                dev->revision = cfg.data[0x08];
        } else {
                dev->subsystem_vendor_id = read_hex_attr(dfd, "subsystem_vendor", 0xffff);
                dev->subsystem_device_id = read_hex_attr(dfd, "subsystem_device", 0xffff);
                dev->revision = read_hex_attr(dfd, "revision", 0xff);
        }
        dev->class_code = read_hex_attr(dfd, "class", 0xffffff);
}

static void load_names(HdDevice *dev, HdCtx *ctx)
{
        HdNames *names = hd_ctx_get_names(ctx);

        if (dev->vendor_id >= 0) {
                dev->vendor_name = hd_names_vendor(names, (guint16)dev->vendor_id);
                if (dev->device_id >= 0)
                        dev->product_name = hd_names_product(names, (guint16)dev->vendor_id,
                                                             (guint16)dev->device_id);
        }
        if (dev->class_code >= 0)
                dev->class_name = hd_names_class(names, (guint32)dev->class_code);
}

static void load_driver(HdDevice *dev, int dfd)
{
        char override[HD_ATTR_MAX + 1];
        char driver[NAME_MAX + 1];

        if (hd_readlink_basename_buf_at(dfd, "driver", driver, sizeof(driver)) >= 0)
                dev->driver = g_strdup(driver);
        if (hd_read_attr_buf_at(dfd, "driver_override", override, sizeof(override)) > 0 &&
            strcmp(override, "(null)") != 0)
                dev->driver_override = g_strdup(override);
}

static void load_iommu(HdDevice *dev, int dfd)
{
        char group[NAME_MAX + 1];
        gint64 n;

        if (hd_readlink_basename_buf_at(dfd, "iommu_group", group, sizeof(group)) >= 0 &&
            hd_parse_int(group, 0, G_MAXINT, &n))
                dev->iommu_group = (int)n;
}

/* Whether a count write on @dev's sriov_numvfs is still waiting (hd_ctx_write_is_pending). */
static gboolean numvfs_write_pending(HdCtx *ctx, const HdDevice *dev)
{
        char path[64];

        g_snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/sriov_numvfs", dev->name);
        return hd_ctx_write_is_pending(ctx, path);
}

static void load_sriov(HdDevice *dev, HdCtx *ctx, int dfd)
{
        char s[NUMBER_ATTR_MAX];
        gint64 v;

        /* The kernel shows sriov_totalvfs and sriov_numvfs together (one attribute group,
         * visible on PFs only), and a VF is never a PF. So a VF skips both lookups and a
         * device without sriov_totalvfs skips sriov_numvfs: on a server with thousands of
         * VFs that is most of the failed opens of a scan. */
        if (!dev->physfn)
                dev->physfn = read_address_link(dfd, "physfn");
        if (dev->physfn)
                return;
        if (hd_read_attr_buf_at(dfd, "sriov_totalvfs", s, sizeof(s)) < 0) {
                if (errno == ENOENT)
                        return;
        } else if (hd_parse_int(s, 0, 65535, &v)) {
                dev->sriov_totalvfs = (int)v;
        }
        /* A count write still waiting for a VF's user (ctx.h): reading the count would wait
         * with it; the VFs are going, so there are none to show. */
        if (dev->sriov_totalvfs >= 0 && numvfs_write_pending(ctx, dev))
                dev->sriov_numvfs = 0;
        else
                dev->sriov_numvfs = read_int_attr(dfd, "sriov_numvfs", 0, 65535);
        dev->sriov_vf_device = read_hex_attr(dfd, "sriov_vf_device", 0xffff);
        dev->sriov_autoprobe = read_int_attr(dfd, "sriov_drivers_autoprobe", 0, 1);
        /* virtfnN links exist for enabled VFs only; numvfs says how many to look for. */
        for (int i = 0; i < dev->sriov_numvfs; i++) {
                char link[32];
                char *vf;

                g_snprintf(link, sizeof(link), "virtfn%d", i);
                vf = read_address_link(dfd, link);
                if (!vf)
                        continue; /* vanished mid-scan or a partial snapshot */
                g_ptr_array_add(dev->virtfns, vf);
        }
}

static void load_topology(HdDevice *dev, HdCtx *ctx)
{
        /* The entry's name alone, from the pci-devices fd: readlink never follows the last
         * component, so this stays inside and costs no parent lookup. */
        g_autofree char *target = hd_readlink_at(hd_ctx_get_pci_devices_fd(ctx), dev->name, NULL);
        g_auto(GStrv) parts = NULL;
        int n;

        if (!target)
                return;
        dev->sysfs_path = hd_path_resolve("sys/bus/pci/devices", target);
        if (!dev->sysfs_path)
                return;
        parts = g_strsplit(dev->sysfs_path, "/", -1);
        n = (int)g_strv_length(parts);
        /* Every path component before our own that names a PCI function is a bridge above
         * us; collect them nearest first. */
        for (int i = n - 2; i >= 0; i--) {
                HdAddress a;
                char buf[HD_ADDRESS_STRLEN];

                if (hd_address_parse_sysfs_name(parts[i], &a))
                        g_ptr_array_add(dev->upstream, g_strdup(hd_address_format(&a, buf)));
        }
}

/* Returns the bytes read (the header at least), for load_ids(); NULL when unreadable. */
static GBytes *load_config(HdDevice *dev, HdCtx *ctx, int dfd, guint fields)
{
        gsize want = (fields & (HD_FIELD_CONFIG | HD_FIELD_RESET | HD_FIELD_LINK))
                             ? CONFIG_SPACE_MAX
                             : CONFIG_HEADER_LEN;
        /* On the live root the file is the kernel's (sysfs makes nothing but regular files
         * there): no type check, one per device in a scan. A tree's is checked. */
        g_autoptr(GBytes) bytes = hd_ctx_is_live_root(ctx)
                                          ? hd_read_sysfs_bytes_at(dfd, "config", want, NULL)
                                          : hd_read_bytes_at(dfd, "config", want, NULL);
        HdConfig cfg;
        HdPcieInfo pcie;

        if (!bytes)
                return NULL;
        cfg.data = g_bytes_get_data(bytes, &cfg.len);
        dev->header_type = hd_config_header_type(&cfg);
        dev->multifunction = hd_config_is_multifunction(&cfg);
        if (want == CONFIG_HEADER_LEN)
                return g_steal_pointer(&bytes);
        dev->config_readable = cfg.len > CONFIG_HEADER_LEN;
        if (hd_config_get_pcie(&cfg, &pcie)) {
                dev->is_pcie = TRUE;
                dev->pcie_type = pcie.type;
                dev->cap_flr = pcie.flr;
                dev->link_max.speed = pcie.max_speed;
                dev->link_max.width = pcie.max_width;
                dev->link_current.speed = pcie.cur_speed;
                dev->link_current.width = pcie.cur_width;
        }
        dev->has_acs = hd_config_get_acs(&cfg, &dev->acs_cap, &dev->acs_ctrl);
        dev->cap_af_flr = hd_config_af_flr(&cfg);
        if (fields & HD_FIELD_CONFIG)
                dev->capabilities = hd_config_capabilities(&cfg);
        dev->cap_pm_reset = hd_config_pm_reset(&cfg);
        return g_steal_pointer(&bytes);
}

static void load_link(HdDevice *dev, int dfd)
{
        g_autofree char *max_speed = hd_read_attr_optional_at(dfd, "max_link_speed");
        g_autofree char *cur_speed = hd_read_attr_optional_at(dfd, "current_link_speed");
        int max_width = read_int_attr(dfd, "max_link_width", 0, 64);
        int cur_width = read_int_attr(dfd, "current_link_width", 0, 64);

        /* The kernel's attributes win over our own config-space reading (they work for
         * unprivileged readers too); config space fills what they lack. */
        if (max_speed && hd_pcie_speed_from_sysfs(max_speed))
                dev->link_max.speed = hd_pcie_speed_from_sysfs(max_speed);
        if (cur_speed && hd_pcie_speed_from_sysfs(cur_speed))
                dev->link_current.speed = hd_pcie_speed_from_sysfs(cur_speed);
        if (max_width > 0)
                dev->link_max.width = max_width;
        if (cur_width > 0)
                dev->link_current.width = cur_width;
}

/* The kernel resets a device through its parent bridge's secondary bus only when the device
 * is alone on that bus (pci_parent_bus_reset()): a reset would hit every device there, and
 * there must be a bridge to do it, so never on the root bus. */
static gboolean bus_reset_possible(const HdDevice *dev, HdCtx *ctx)
{
        g_autofree char *parent = NULL;
        g_autoptr(GPtrArray) siblings = NULL;

        if (!dev->sysfs_path || !dev->upstream || dev->upstream->len == 0)
                return FALSE;
        parent = g_path_get_dirname(dev->sysfs_path);
        siblings = hd_list_dir_at(hd_ctx_get_root_fd(ctx), parent, NULL);
        for (guint i = 0; siblings && i < siblings->len; i++) {
                HdAddress a;
                if (hd_address_parse_sysfs_name(siblings->pdata[i], &a) &&
                    a.bus == dev->address.bus && a.domain == dev->address.domain &&
                    !hd_address_equal(&a, &dev->address))
                        return FALSE;
        }
        return TRUE;
}

static void load_reset(HdDevice *dev, HdCtx *ctx, int dfd)
{
        g_autofree char *methods = hd_read_attr_optional_at(dfd, "reset_method");
        g_autoptr(GPtrArray) list = NULL;

        if (methods) {
                dev->reset_methods = g_strsplit_set(g_strstrip(methods), " ", -1);
                dev->reset_source = "kernel";
                return;
        }
        /* Kernels before 5.15 have no reset_method attribute: infer what the kernel would
         * try, in its order, from the capabilities. Without config access we know nothing. */
        list = g_ptr_array_new();
        if (dev->config_readable) {
                if (dev->cap_flr)
                        g_ptr_array_add(list, g_strdup("flr"));
                if (dev->cap_af_flr)
                        g_ptr_array_add(list, g_strdup("af_flr"));
                if (dev->cap_pm_reset)
                        g_ptr_array_add(list, g_strdup("pm"));
                if (bus_reset_possible(dev, ctx))
                        g_ptr_array_add(list, g_strdup("bus"));
                dev->reset_source = "config";
        }
        g_ptr_array_add(list, NULL);
        dev->reset_methods = (char **)g_ptr_array_free(g_steal_pointer(&list), FALSE);
}

/* Names of the entries of a class directory (sys/class/net, ...) whose device lives below
 * @dev's sysfs directory. One pass over the class directory; used only when asked for. */
static void collect_class_users(HdCtx *ctx, const HdDevice *dev, const char *class_dir,
                                GPtrArray *out)
{
        g_autoptr(GPtrArray) names = hd_list_dir_at(hd_ctx_get_root_fd(ctx), class_dir, NULL);
        g_autofree char *prefix = NULL;
        hd_autofd int dfd = -1;

        if (!names || !dev->sysfs_path)
                return;
        dfd = hd_open_dir_at(hd_ctx_get_root_fd(ctx), class_dir, NULL);
        if (dfd < 0)
                return;
        prefix = g_strconcat(dev->sysfs_path, "/", NULL);
        for (guint i = 0; i < names->len; i++) {
                const char *name = names->pdata[i];
                g_autofree char *target = hd_readlink_at(dfd, name, NULL);
                g_autofree char *resolved = NULL;
                const char *rest;

                if (!target)
                        continue;
                resolved = hd_path_resolve(class_dir, target);
                if (!resolved || !g_str_has_prefix(resolved, prefix))
                        continue;
                /* Not ours when a child PCI device sits in between (a bridge's children). */
                rest = resolved + strlen(prefix);
                {
                        g_auto(GStrv) parts = g_strsplit(rest, "/", -1);
                        gboolean nested = FALSE;
                        for (char **p = parts; *p && *(p + 1); p++) {
                                HdAddress a;
                                if (hd_address_parse_sysfs_name(*p, &a))
                                        nested = TRUE;
                        }
                        if (nested)
                                continue;
                }
                g_ptr_array_add(out, g_strdup(name));
        }
}

static void load_users(HdDevice *dev, HdCtx *ctx)
{
        collect_class_users(ctx, dev, "sys/class/net", dev->netdevs);
        collect_class_users(ctx, dev, "sys/class/block", dev->blockdevs);
        collect_class_users(ctx, dev, "sys/class/drm", dev->drm_cards);
}

static HdDevice *device_new(const HdAddress *address)
{
        HdDevice *dev = g_new0(HdDevice, 1);

        dev->address = *address;
        hd_address_format(address, dev->name);
        dev->vendor_id = dev->device_id = -1;
        dev->subsystem_vendor_id = dev->subsystem_device_id = -1;
        dev->revision = -1;
        dev->class_code = -1;
        dev->iommu_group = -1;
        dev->numa_node = -1;
        dev->header_type = -1;
        dev->sriov_totalvfs = dev->sriov_numvfs = -1;
        dev->sriov_vf_device = -1;
        dev->sriov_autoprobe = -1;
        dev->boot_vga = -1;
        dev->state = -1;
        dev->virtfns = g_ptr_array_new_with_free_func(g_free);
        dev->upstream = g_ptr_array_new_with_free_func(g_free);
        dev->netdevs = g_ptr_array_new_with_free_func(g_free);
        dev->blockdevs = g_ptr_array_new_with_free_func(g_free);
        dev->drm_cards = g_ptr_array_new_with_free_func(g_free);
        return dev;
}

/* A VF's config header reads 0xffff as vendor: the hint to look for its PF. */
static gboolean header_says_vf(GBytes *header)
{
        gsize len = 0;
        const guint8 *d = header ? g_bytes_get_data(header, &len) : NULL;

        return len >= 2 && d[0] == 0xff && d[1] == 0xff;
}

HdDevice *hd_device_load_at(HdCtx *ctx, int dfd, const HdAddress *address, guint fields,
                            GHashTable *loaded)
{
        HdDevice *dev = device_new(address);
        g_autoptr(GBytes) header = NULL;
        const HdDevice *pf = NULL;

        if (fields & HD_FIELD_NAMES)
                fields |= HD_FIELD_IDS;
        if (fields & (HD_FIELD_RESET | HD_FIELD_USERS))
                fields |= HD_FIELD_TOPOLOGY;
        if (fields & HD_FIELD_RESET)
                fields |= HD_FIELD_CONFIG;
        dev->fields = fields;

        /* Config first: its header carries most of the ids. */
        if (fields & (HD_FIELD_IDS | HD_FIELD_HEADER | HD_FIELD_CONFIG | HD_FIELD_LINK))
                header = load_config(dev, ctx, dfd, fields);
        if (loaded && (fields & HD_FIELD_SRIOV) && header_says_vf(header)) {
                dev->physfn = read_address_link(dfd, "physfn");
                pf = dev->physfn ? g_hash_table_lookup(loaded, dev->physfn) : NULL;
                if (pf && (pf->fields & fields) != fields)
                        pf = NULL;
        }
        if (fields & HD_FIELD_IDS)
                load_ids(dev, dfd, header, pf);
        if (fields & HD_FIELD_NAMES)
                load_names(dev, ctx);
        if (fields & HD_FIELD_DRIVER)
                load_driver(dev, dfd);
        if (fields & HD_FIELD_IOMMU)
                load_iommu(dev, dfd);
        if (fields & HD_FIELD_NUMA) {
                /* A VF hangs off its PF's parent bus, so the kernel gives it the PF's node. */
                dev->numa_node = pf ? pf->numa_node
                                    : read_int_attr(dfd, "numa_node", -1, 65535);
        }
        if (fields & HD_FIELD_SRIOV)
                load_sriov(dev, ctx, dfd);
        if (fields & HD_FIELD_BOOT_VGA) {
                /* The kernel creates boot_vga for VGA-class devices only: skip the open for
                 * everything else when we know the class. */
                if (dev->class_code < 0 || ((guint32)dev->class_code >> 8) == 0x0300)
                        dev->boot_vga = read_int_attr(dfd, "boot_vga", 0, 1);
        }
        if (fields & HD_FIELD_TOPOLOGY)
                load_topology(dev, ctx);
        if (fields & HD_FIELD_LINK)
                load_link(dev, dfd);
        if (fields & HD_FIELD_RESET)
                load_reset(dev, ctx, dfd);
        if (fields & HD_FIELD_USERS)
                load_users(dev, ctx);
        return dev;
}

HdDevice *hd_device_load(HdCtx *ctx, const HdAddress *address, guint fields, GError **error)
{
        char name[HD_ADDRESS_STRLEN];
        hd_autofd int dfd = -1;

        hd_address_format(address, name);
        dfd = hd_ctx_open_device_dir(ctx, name);
        if (dfd < 0) {
                int err = errno;
                g_autofree char *list = hd_hint_command(ctx, HD_HINT_CMD_LIST, NULL, FALSE, 0);
                if (err == ENOENT || err == ENOTDIR)
                        g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                                    "no PCI device %s (%s shows the devices)", name, list);
                else if (err == ELOOP)
                        /* a damaged or hostile tree; the scan skips such entries too */
                        g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                                    "no PCI device %s: its entry in sys/bus/pci/devices is a "
                                    "symbolic link loop (%s shows the devices)",
                                    name, list);
                else
                        g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "cannot open PCI device %s: %s",
                                    name, g_strerror(err));
                return NULL;
        }
        return hd_device_load_at(ctx, dfd, address, fields, NULL);
}

void hd_device_free(HdDevice *dev)
{
        if (!dev)
                return;
        g_free(dev->driver);
        g_free(dev->driver_override);
        g_free(dev->physfn);
        g_ptr_array_unref(dev->virtfns);
        g_free(dev->sysfs_path);
        g_ptr_array_unref(dev->upstream);
        g_strfreev(dev->reset_methods);
        if (dev->capabilities)
                g_array_unref(dev->capabilities);
        g_ptr_array_unref(dev->netdevs);
        g_ptr_array_unref(dev->blockdevs);
        g_ptr_array_unref(dev->drm_cards);
        g_free(dev->host_need);
        g_free(dev);
}

gboolean hd_device_is_bridge(const HdDevice *dev)
{
        if (dev->header_type >= 0)
                return dev->header_type == 1 || dev->header_type == 2;
        if (dev->class_code >= 0) {
                guint32 sub = (guint32)dev->class_code >> 8;
                return sub == 0x0604 || sub == 0x0607 || sub == 0x0609;
        }
        return FALSE;
}

gboolean hd_device_is_host_bridge(const HdDevice *dev)
{
        return dev->class_code >= 0 && ((guint32)dev->class_code >> 8) == 0x0600;
}

gboolean hd_device_is_boot_vga(const HdDevice *dev)
{
        return dev->boot_vga == 1;
}

gboolean hd_driver_is_vfio(const char *driver)
{
        /* vfio-pci and its variant drivers (mlx5_vfio_pci, hisi_acc_vfio_pci, ...) */
        return driver && (strcmp(driver, "vfio-pci") == 0 || strstr(driver, "vfio") != NULL);
}

gboolean hd_driver_is_viable(const char *driver)
{
        return !driver || hd_driver_is_vfio(driver) || strcmp(driver, "pci-stub") == 0;
}

gboolean hd_driver_name_is_valid(const char *name)
{
        static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789_-.";

        return name && *name && strlen(name) < 64 && strspn(name, allowed) == strlen(name) &&
               strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

gboolean hd_device_is_assignable(const HdDevice *dev, const char **reason)
{
        const char *why = NULL;

        if (hd_device_is_bridge(dev))
                why = "bridge";
        else if (hd_device_is_host_bridge(dev))
                why = "host bridge";
        else if (hd_device_is_boot_vga(dev))
                why = "boot GPU (the host's console)";
        else if ((dev->fields & HD_FIELD_IOMMU) && dev->iommu_group < 0)
                why = "no IOMMU";
        else if (dev->host_need)
                why = dev->host_need;
        if (reason)
                *reason = why;
        return why == NULL;
}

char *hd_device_describe(const HdDevice *dev)
{
        const char *what = dev->class_name ? dev->class_name : "PCI device";

        if (dev->driver)
                return g_strdup_printf("%s, %s", what, dev->driver);
        return g_strdup_printf("%s, no driver", what);
}

HdClassCategory hd_device_get_category(const HdDevice *dev)
{
        guint32 base, sub;

        if (dev->class_code < 0)
                return hd_device_is_bridge(dev) ? HD_CLASS_BRIDGE : HD_CLASS_OTHER;
        base = ((guint32)dev->class_code >> 16) & 0xff;
        sub = ((guint32)dev->class_code >> 8) & 0xff;
        switch (base) {
        case 0x01:
                return HD_CLASS_STORAGE;
        case 0x02:
                return HD_CLASS_NET;
        case 0x03:
                return HD_CLASS_GPU;
        case 0x04:
                /* 0x0401 audio, 0x0403 HD audio; video (0x0400) counts as other */
                return sub == 0x01 || sub == 0x03 ? HD_CLASS_AUDIO : HD_CLASS_OTHER;
        case 0x06:
                return HD_CLASS_BRIDGE;
        case 0x0c:
                return sub == 0x03 ? HD_CLASS_USB : HD_CLASS_OTHER;
        case 0x12: /* processing accelerators (FPGAs, AI cards) */
        default:
                return HD_CLASS_OTHER;
        }
}

static const char *const category_names[] = {
        [HD_CLASS_GPU] = "gpu",       [HD_CLASS_NET] = "net",       [HD_CLASS_STORAGE] = "storage",
        [HD_CLASS_USB] = "usb",       [HD_CLASS_AUDIO] = "audio",   [HD_CLASS_BRIDGE] = "bridge",
        [HD_CLASS_OTHER] = "other",
};

const char *hd_class_category_to_string(HdClassCategory cat)
{
        return (guint)cat < G_N_ELEMENTS(category_names) ? category_names[cat] : "other";
}

gboolean hd_class_category_from_string(const char *s, HdClassCategory *out)
{
        for (guint i = 0; i < G_N_ELEMENTS(category_names); i++)
                if (g_strcmp0(s, category_names[i]) == 0) {
                        *out = (HdClassCategory)i;
                        return TRUE;
                }
        return FALSE;
}
