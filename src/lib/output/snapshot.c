/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "address.h"
#include "fileio.h"
#include "hd-error.h"
#include "json-export.h"
#include "macros.h"
#include "snapshot.h"

/* Big enough for modules.dep and /proc/cpuinfo on large machines. */
#define MAX_COPY (8 * 1024 * 1024)

typedef struct {
        HdCtx *ctx;
        int src;  /* the root being captured */
        int dst;  /* the snapshot directory */
        guint files, links;
        GPtrArray *absent; /* char*: paths looked for and not on the machine */
} Capture;

/* @relpath does not exist on the machine: say so in the manifest, and give the snapshot the
 * directory it would have been in when the machine has that directory, so that the tree
 * itself shows "looked, not there" (sys/firmware/acpi/tables without DMAR) rather than
 * "never captured" (no tables directory at all). */
static void note_absent(Capture *c, const char *relpath)
{
        g_autofree char *dir = g_path_get_dirname(relpath);

        g_ptr_array_add(c->absent, g_strdup(relpath));
        if (strcmp(dir, ".") != 0 && hd_exists_at(c->src, dir, FALSE))
                hd_mkdir_p_at(c->dst, dir, 0755, NULL);
}

static gboolean ensure_parent(Capture *c, const char *relpath)
{
        g_autofree char *dir = g_path_get_dirname(relpath);

        return strcmp(dir, ".") == 0 || hd_mkdir_p_at(c->dst, dir, 0755, NULL);
}

static void put_file(Capture *c, const char *relpath, const char *data, gsize len)
{
        if (!ensure_parent(c, relpath))
                return;
        if (hd_write_file_at(c->dst, relpath, data, len, NULL))
                c->files++;
}

/* Copy one file if it can be read; an empty file when it is write-only (sysfs bind,
 * unbind, remove...) so the snapshot takes writes like the machine did. */
static void copy_file(Capture *c, const char *relpath)
{
        struct stat st;
        g_autoptr(GBytes) bytes = NULL;
        gsize len = 0;
        const char *data;

        if (!hd_stat_at(c->src, relpath, FALSE, &st) || !S_ISREG(st.st_mode))
                return;
        if (!(st.st_mode & 0444)) {
                put_file(c, relpath, "", 0);
                return;
        }
        bytes = hd_read_bytes_at(c->src, relpath, MAX_COPY, NULL);
        if (!bytes)
                return; /* readable mode bits but the kernel said no: skip */
        data = g_bytes_get_data(bytes, &len);
        put_file(c, relpath, data ? data : "", len);
}

static void copy_link(Capture *c, const char *relpath)
{
        g_autofree char *target = hd_readlink_at(c->src, relpath, NULL);

        if (!target || !ensure_parent(c, relpath))
                return;
        if (hd_symlink_at(target, c->dst, relpath))
                c->links++;
}

static void mark_present(Capture *c, const char *relpath)
{
        if (hd_exists_at(c->src, relpath, FALSE))
                put_file(c, relpath, "", 0);
        else
                note_absent(c, relpath);
}

/* copy_file() for a file the library reads by name (not found by listing a directory): its
 * absence is recorded. */
static void copy_named_file(Capture *c, const char *relpath)
{
        if (!hd_exists_at(c->src, relpath, FALSE))
                note_absent(c, relpath);
        else
                copy_file(c, relpath);
}

/* HD_SNAPSHOT_MANIFEST: what the snapshot is and what the machine did not have. */
static void write_manifest(Capture *c)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autofree char *text = NULL;

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "format");
        json_builder_add_int_value(b, 1);
        json_builder_set_member_name(b, "absent");
        json_builder_begin_array(b);
        for (guint i = 0; i < c->absent->len; i++)
                json_builder_add_string_value(b, c->absent->pdata[i]);
        json_builder_end_array(b);
        json_builder_end_object(b);
        text = hd_json_to_string(b, TRUE);
        put_file(c, HD_SNAPSHOT_MANIFEST, text, strlen(text));
}

/* Attributes of a device directory: every regular file but BAR mappings and the ROM, and
 * the links the library follows. Subdirectories are left out (class entries are copied on
 * their own below). */
static void copy_device_dir(Capture *c, const char *dir)
{
        g_autoptr(GPtrArray) names = hd_list_dir_at(c->src, dir, NULL);

        hd_mkdir_p_at(c->dst, dir, 0755, NULL);
        for (guint i = 0; names && i < names->len; i++) {
                const char *name = names->pdata[i];
                g_autofree char *path = g_strdup_printf("%s/%s", dir, name);
                struct stat st;

                if (g_str_has_prefix(name, "resource") || strcmp(name, "rom") == 0 ||
                    strcmp(name, "uevent") == 0)
                        continue;
                if (!hd_stat_at(c->src, path, TRUE, &st))
                        continue;
                if (S_ISLNK(st.st_mode)) {
                        if (strcmp(name, "driver") == 0 || strcmp(name, "iommu_group") == 0 ||
                            strcmp(name, "physfn") == 0 || g_str_has_prefix(name, "virtfn") ||
                            strcmp(name, "subsystem") == 0 || strcmp(name, "iommu") == 0 ||
                            strcmp(name, "mdev_type") == 0)
                                copy_link(c, path);
                } else if (S_ISREG(st.st_mode)) {
                        copy_file(c, path);
                }
        }
}

static void capture_pci(Capture *c)
{
        g_autoptr(GPtrArray) devices = hd_list_dir_at(c->src, "sys/bus/pci/devices", NULL);
        g_autoptr(GPtrArray) drivers = hd_list_dir_at(c->src, "sys/bus/pci/drivers", NULL);

        for (guint i = 0; devices && i < devices->len; i++) {
                const char *name = devices->pdata[i];
                g_autofree char *link = g_strdup_printf("sys/bus/pci/devices/%s", name);
                g_autofree char *target = NULL;
                g_autofree char *real = NULL;
                HdAddress a;

                if (!hd_address_parse_sysfs_name(name, &a))
                        continue;
                target = hd_readlink_at(c->src, link, NULL);
                real = target ? hd_path_resolve("sys/bus/pci/devices", target) : NULL;
                if (!real)
                        continue;
                copy_device_dir(c, real);
                copy_link(c, link);
        }
        for (guint i = 0; drivers && i < drivers->len; i++) {
                const char *drv = drivers->pdata[i];
                g_autofree char *dir = g_strdup_printf("sys/bus/pci/drivers/%s", drv);
                g_autoptr(GPtrArray) entries = hd_list_dir_at(c->src, dir, NULL);

                hd_mkdir_p_at(c->dst, dir, 0755, NULL);
                for (guint j = 0; entries && j < entries->len; j++) {
                        const char *e = entries->pdata[j];
                        g_autofree char *path = g_strdup_printf("%s/%s", dir, e);
                        HdAddress a;
                        if (hd_address_parse_sysfs_name(e, &a) || strcmp(e, "module") == 0)
                                copy_link(c, path);
                        else if (strcmp(e, "bind") == 0 || strcmp(e, "unbind") == 0 ||
                                 strcmp(e, "new_id") == 0 || strcmp(e, "remove_id") == 0)
                                put_file(c, path, "", 0);
                }
        }
        put_file(c, "sys/bus/pci/drivers_probe", "", 0);
        put_file(c, "sys/bus/pci/rescan", "", 0);
        copy_file(c, "sys/bus/pci/drivers_autoprobe");
}

static void capture_iommu(Capture *c)
{
        g_autoptr(GPtrArray) groups = hd_list_dir_at(c->src, "sys/kernel/iommu_groups", NULL);
        g_autoptr(GPtrArray) units = hd_list_dir_at(c->src, "sys/class/iommu", NULL);

        hd_mkdir_p_at(c->dst, "sys/kernel/iommu_groups", 0755, NULL);
        for (guint i = 0; groups && i < groups->len; i++) {
                g_autofree char *dir = g_strdup_printf("sys/kernel/iommu_groups/%s/devices",
                                                       (char *)groups->pdata[i]);
                g_autofree char *type = g_strdup_printf("sys/kernel/iommu_groups/%s/type",
                                                        (char *)groups->pdata[i]);
                g_autoptr(GPtrArray) members = hd_list_dir_at(c->src, dir, NULL);

                hd_mkdir_p_at(c->dst, dir, 0755, NULL);
                copy_file(c, type);
                for (guint j = 0; members && j < members->len; j++) {
                        g_autofree char *path = g_strdup_printf("%s/%s", dir,
                                                                (char *)members->pdata[j]);
                        copy_link(c, path);
                }
        }
        hd_mkdir_p_at(c->dst, "sys/class/iommu", 0755, NULL);
        for (guint i = 0; units && i < units->len; i++) {
                g_autofree char *link = g_strdup_printf("sys/class/iommu/%s",
                                                        (char *)units->pdata[i]);
                g_autofree char *target = hd_readlink_at(c->src, link, NULL);
                g_autofree char *real = target ? hd_path_resolve("sys/class/iommu", target) : NULL;
                static const char *const attrs[] = { "intel-iommu/cap", "intel-iommu/ecap",
                                                     "intel-iommu/version", "amd-iommu/cap",
                                                     "amd-iommu/features" };
                copy_link(c, link);
                if (!real)
                        continue;
                hd_mkdir_p_at(c->dst, real, 0755, NULL);
                for (gsize k = 0; k < G_N_ELEMENTS(attrs); k++) {
                        g_autofree char *p = g_strdup_printf("%s/%s", real, attrs[k]);
                        copy_file(c, p);
                }
        }
}

/* The links that stack interfaces (usage.h): master, upper_*, lower_*, brport/bridge, and
 * the kind (uevent's DEVTYPE, bridge/, bonding/slaves). */
static void copy_net_stack(Capture *c, const char *real)
{
        g_autoptr(GPtrArray) names = hd_list_dir_at(c->src, real, NULL);
        static const char *const links[] = {"master", "brport/bridge"};
        static const char *const files[] = {"uevent", "bonding/slaves", "bridge/bridge_id"};

        for (guint i = 0; names && i < names->len; i++) {
                const char *name = names->pdata[i];
                if (g_str_has_prefix(name, "upper_") || g_str_has_prefix(name, "lower_")) {
                        g_autofree char *p = g_strdup_printf("%s/%s", real, name);
                        copy_link(c, p);
                }
        }
        for (gsize k = 0; k < G_N_ELEMENTS(links); k++) {
                g_autofree char *p = g_strdup_printf("%s/%s", real, links[k]);
                copy_link(c, p);
        }
        for (gsize k = 0; k < G_N_ELEMENTS(files); k++) {
                g_autofree char *p = g_strdup_printf("%s/%s", real, files[k]);
                copy_file(c, p);
        }
}

/* GPUs' framebuffers (sys/class/graphics/fbN: the PCI device's own or the firmware's
 * platform device) and their entries below the PCI device. */
static void capture_graphics(Capture *c)
{
        g_autoptr(GPtrArray) names = hd_list_dir_at(c->src, "sys/class/graphics", NULL);

        for (guint i = 0; names && i < names->len; i++) {
                g_autofree char *link =
                    g_strdup_printf("sys/class/graphics/%s", (char *)names->pdata[i]);
                g_autofree char *target = hd_readlink_at(c->src, link, NULL);
                g_autofree char *real =
                    target ? hd_path_resolve("sys/class/graphics", target) : NULL;
                g_autofree char *dev = NULL;
                g_autofree char *name = NULL;

                if (!real || !g_str_has_prefix(real, "sys/devices/"))
                        continue;
                copy_link(c, link);
                hd_mkdir_p_at(c->dst, real, 0755, NULL);
                dev = g_strdup_printf("%s/device", real);
                name = g_strdup_printf("%s/name", real);
                copy_link(c, dev);
                copy_file(c, name);
        }
}

/* Class entries (network interfaces, disks, DRM cards) that live under a PCI device: the link
 * and a directory at its target, with the attributes the in-use checks read. */
static void capture_class(Capture *c, const char *class_dir)
{
        g_autoptr(GPtrArray) names = hd_list_dir_at(c->src, class_dir, NULL);

        for (guint i = 0; names && i < names->len; i++) {
                g_autofree char *link = g_strdup_printf("%s/%s", class_dir,
                                                        (char *)names->pdata[i]);
                g_autofree char *target = hd_readlink_at(c->src, link, NULL);
                g_autofree char *real = target ? hd_path_resolve(class_dir, target) : NULL;
                static const char *const attrs[] = { "dev", "partition", "operstate", "ifindex",
                                                     "removable", "size" };

                if (!real || !(g_str_has_prefix(real, "sys/devices/pci") ||
                               (strcmp(class_dir, "sys/class/net") == 0 &&
                                g_str_has_prefix(real, "sys/devices/virtual/net/"))))
                        continue;
                copy_link(c, link);
                hd_mkdir_p_at(c->dst, real, 0755, NULL);
                for (gsize k = 0; k < G_N_ELEMENTS(attrs); k++) {
                        g_autofree char *p = g_strdup_printf("%s/%s", real, attrs[k]);
                        copy_file(c, p);
                }
                if (strcmp(class_dir, "sys/class/net") == 0)
                        copy_net_stack(c, real);
                {
                        g_autofree char *holders = g_strdup_printf("%s/holders", real);
                        g_autoptr(GPtrArray) hs = hd_list_dir_at(c->src, holders, NULL);
                        for (guint j = 0; hs && j < hs->len; j++) {
                                g_autofree char *h = g_strdup_printf("%s/%s", holders,
                                                                     (char *)hs->pdata[j]);
                                copy_link(c, h);
                        }
                }
        }
}

/* SCSI LUNs, adapters and FC ports (scsi.h, npiv.h): the links of sys/bus/scsi/devices and each
 * LUN's attributes, sg and block nodes (with partitions and holders); sys/class/{scsi_host,
 * fc_host,fc_vports} entries with their attribute files; dev/disk/by-id links; vhost targets
 * (vhost.h: TPGs, nexus, LUN links, the backstores' udev_path); the dm and md devices stacked on
 * disks (dm/name, dm/uuid, md/level: what they are). */
static void copy_attr_dir(Capture *c, const char *dir)
{
        g_autoptr(GPtrArray) names = hd_list_dir_at(c->src, dir, NULL);

        hd_mkdir_p_at(c->dst, dir, 0755, NULL);
        for (guint i = 0; names && i < names->len; i++) {
                g_autofree char *p = g_strdup_printf("%s/%s", dir, (char *)names->pdata[i]);
                if (strcmp(names->pdata[i], "uevent") != 0)
                        copy_file(c, p);
        }
}

static void capture_scsi_block(Capture *c, const char *lun, const char *blk)
{
        g_autofree char *dir = g_strdup_printf("%s/block/%s", lun, blk);
        g_autofree char *cls = g_strdup_printf("sys/class/block/%s", blk);
        g_autoptr(GPtrArray) inside = hd_list_dir_at(c->src, dir, NULL);
        static const char *const attrs[] = { "dev", "size", "removable", "partition" };

        copy_link(c, cls);
        for (guint i = 0; inside && i < inside->len + 1; i++) {
                const char *name = i ? inside->pdata[i - 1] : NULL;
                g_autofree char *d = name ? g_strdup_printf("%s/%s", dir, name) : g_strdup(dir);
                g_autofree char *holders = g_strdup_printf("%s/holders", d);
                g_autoptr(GPtrArray) hs = NULL;

                if (name) {
                        g_autofree char *part = g_strdup_printf("%s/partition", d);
                        g_autofree char *pcls = g_strdup_printf("sys/class/block/%s", name);
                        if (!g_str_has_prefix(name, blk) || !hd_exists_at(c->src, part, FALSE))
                                continue;
                        copy_link(c, pcls);
                }
                hd_mkdir_p_at(c->dst, d, 0755, NULL);
                for (gsize k = 0; k < G_N_ELEMENTS(attrs); k++) {
                        g_autofree char *p = g_strdup_printf("%s/%s", d, attrs[k]);
                        copy_file(c, p);
                }
                hs = hd_list_dir_at(c->src, holders, NULL);
                for (guint j = 0; hs && j < hs->len; j++) {
                        g_autofree char *h = g_strdup_printf("%s/%s", holders, (char *)hs->pdata[j]);
                        copy_link(c, h);
                }
        }
}

static void capture_scsi(Capture *c)
{
        static const char *const lun_attrs[] = { "type", "vendor", "model", "rev", "state",
                                                 "wwid", "vpd_pg83" };
        static const char *const classes[] = { "sys/class/scsi_host", "sys/class/fc_host",
                                               "sys/class/fc_vports" };
        g_autoptr(GPtrArray) bus = hd_list_dir_at(c->src, "sys/bus/scsi/devices", NULL);
        g_autoptr(GPtrArray) ids = hd_list_dir_at(c->src, "dev/disk/by-id", NULL);
        g_autoptr(GPtrArray) blocks = hd_list_dir_at(c->src, "sys/class/block", NULL);

        if (bus)
                hd_mkdir_p_at(c->dst, "sys/bus/scsi/devices", 0755, NULL);
        for (guint i = 0; bus && i < bus->len; i++) {
                const char *name = bus->pdata[i];
                g_autofree char *link = g_strdup_printf("sys/bus/scsi/devices/%s", name);
                g_autofree char *target = hd_readlink_at(c->src, link, NULL);
                g_autofree char *real = target ? hd_path_resolve("sys/bus/scsi/devices", target)
                                               : NULL;
                g_autofree char *sgdir = NULL;
                g_autofree char *blkdir = NULL;
                g_autoptr(GPtrArray) sgs = NULL;
                g_autoptr(GPtrArray) blks = NULL;

                if (!real || !g_str_has_prefix(real, "sys/devices/"))
                        continue;
                copy_link(c, link);
                hd_mkdir_p_at(c->dst, real, 0755, NULL);
                if (!g_ascii_isdigit(name[0])) /* hostN, targetH:C:T */
                        continue;
                for (gsize k = 0; k < G_N_ELEMENTS(lun_attrs); k++) {
                        g_autofree char *p = g_strdup_printf("%s/%s", real, lun_attrs[k]);
                        copy_file(c, p);
                }
                sgdir = g_strdup_printf("%s/scsi_generic", real);
                sgs = hd_list_dir_at(c->src, sgdir, NULL);
                for (guint k = 0; sgs && k < sgs->len; k++) {
                        g_autofree char *p = g_strdup_printf("%s/%s/dev", sgdir,
                                                             (char *)sgs->pdata[k]);
                        g_autofree char *d = g_strdup_printf("%s/%s", sgdir, (char *)sgs->pdata[k]);
                        hd_mkdir_p_at(c->dst, d, 0755, NULL);
                        copy_file(c, p);
                }
                blkdir = g_strdup_printf("%s/block", real);
                blks = hd_list_dir_at(c->src, blkdir, NULL);
                for (guint k = 0; blks && k < blks->len; k++)
                        capture_scsi_block(c, real, blks->pdata[k]);
        }
        for (gsize k = 0; k < G_N_ELEMENTS(classes); k++) {
                g_autoptr(GPtrArray) names = hd_list_dir_at(c->src, classes[k], NULL);
                for (guint i = 0; names && i < names->len; i++) {
                        g_autofree char *link = g_strdup_printf("%s/%s", classes[k],
                                                                (char *)names->pdata[i]);
                        g_autofree char *target = hd_readlink_at(c->src, link, NULL);
                        g_autofree char *real = target ? hd_path_resolve(classes[k], target) : NULL;

                        if (!real || !g_str_has_prefix(real, "sys/devices/"))
                                continue;
                        copy_link(c, link);
                        copy_attr_dir(c, real);
                }
        }
        for (guint i = 0; ids && i < ids->len; i++) {
                g_autofree char *p = g_strdup_printf("dev/disk/by-id/%s", (char *)ids->pdata[i]);
                copy_link(c, p);
        }
        /* vhost targets in configfs: TPGs, their nexus, LUN links and the backstores' paths */
        {
                static const char *const vhost = "sys/kernel/config/target/vhost";
                g_autoptr(GPtrArray) targets = hd_list_dir_at(c->src, vhost, NULL);

                for (guint i = 0; targets && i < targets->len; i++) {
                        g_autofree char *tdir = g_strdup_printf("%s/%s", vhost,
                                                                (char *)targets->pdata[i]);
                        g_autoptr(GPtrArray) tpgs = hd_list_dir_at(c->src, tdir, NULL);

                        for (guint j = 0; tpgs && j < tpgs->len; j++) {
                                g_autofree char *tpg = g_strdup_printf("%s/%s", tdir,
                                                                       (char *)tpgs->pdata[j]);
                                g_autofree char *nexus = g_strdup_printf("%s/nexus", tpg);
                                g_autofree char *lun_dir = g_strdup_printf("%s/lun", tpg);
                                g_autoptr(GPtrArray) luns = hd_list_dir_at(c->src, lun_dir, NULL);

                                if (!g_str_has_prefix(tpgs->pdata[j], "tpgt_"))
                                        continue;
                                hd_mkdir_p_at(c->dst, lun_dir, 0755, NULL);
                                copy_file(c, nexus);
                                for (guint k = 0; luns && k < luns->len; k++) {
                                        g_autofree char *ld = g_strdup_printf(
                                            "%s/%s", lun_dir, (char *)luns->pdata[k]);
                                        g_autoptr(GPtrArray) links = hd_list_dir_at(c->src, ld, NULL);

                                        hd_mkdir_p_at(c->dst, ld, 0755, NULL);
                                        for (guint m = 0; links && m < links->len; m++) {
                                                g_autofree char *l = g_strdup_printf(
                                                    "%s/%s", ld, (char *)links->pdata[m]);
                                                g_autofree char *t = hd_readlink_at(c->src, l, NULL);
                                                g_autofree char *real =
                                                    t ? hd_path_resolve(ld, t) : NULL;
                                                g_autofree char *udev =
                                                    real ? g_strdup_printf("%s/udev_path", real)
                                                         : NULL;
                                                if (!real)
                                                        continue;
                                                copy_link(c, l);
                                                hd_mkdir_p_at(c->dst, real, 0755, NULL);
                                                copy_file(c, udev);
                                        }
                                }
                        }
                }
        }
        /* what is stacked on disks: dm (LVM, multipath, dm-crypt) and md */
        for (guint i = 0; blocks && i < blocks->len; i++) {
                static const char *const attrs[] = { "dev", "dm/name", "dm/uuid", "md/level" };
                g_autofree char *link = g_strdup_printf("sys/class/block/%s",
                                                        (char *)blocks->pdata[i]);
                g_autofree char *target = hd_readlink_at(c->src, link, NULL);
                g_autofree char *real = target ? hd_path_resolve("sys/class/block", target) : NULL;

                if (!real || !g_str_has_prefix(real, "sys/devices/virtual/block/"))
                        continue;
                copy_link(c, link);
                hd_mkdir_p_at(c->dst, real, 0755, NULL);
                for (gsize k = 0; k < G_N_ELEMENTS(attrs); k++) {
                        g_autofree char *p = g_strdup_printf("%s/%s", real, attrs[k]);
                        if (hd_exists_at(c->src, p, FALSE) && ensure_parent(c, p))
                                copy_file(c, p);
                }
        }
}

static void capture_host(Capture *c)
{
        static const char *const files[] = {
            "proc/cmdline",       "proc/cpuinfo",   "proc/sys/kernel/osrelease",
            "proc/mounts",        "proc/swaps",     "proc/net/route",
            "proc/interrupts",    "etc/os-release", "proc/net/ipv6_route",
            "proc/net/if_inet6",  "proc/fb",        "etc/default/grub",
            "etc/kernel/cmdline", "etc/hostname",
        };
        static const char *const present[] = {
                "sys/firmware/acpi/tables/DMAR", "sys/firmware/acpi/tables/IVRS",
                "dev/kvm", "dev/vfio/vfio",
        };
        static const char *const modules[] = {
                "vfio", "vfio_pci", "vfio_pci_core", "vfio_iommu_type1", "kvm", "kvm_intel",
                "kvm_amd", "pci_stub", "vhost_scsi",
        };
        g_autofree char *release = hd_read_attr_optional_at(c->src, "proc/sys/kernel/osrelease");

        for (gsize i = 0; i < G_N_ELEMENTS(files); i++)
                copy_named_file(c, files[i]);
        for (gsize i = 0; i < G_N_ELEMENTS(present); i++)
                mark_present(c, present[i]);
        for (gsize i = 0; i < G_N_ELEMENTS(modules); i++) {
                g_autofree char *dir = g_strdup_printf("sys/module/%s", modules[i]);
                g_autofree char *params = g_strdup_printf("%s/parameters", dir);
                g_autoptr(GPtrArray) ps = hd_list_dir_at(c->src, params, NULL);
                g_autofree char *initstate = g_strdup_printf("%s/initstate", dir);

                if (!hd_exists_at(c->src, dir, FALSE)) {
                        note_absent(c, dir);
                        continue;
                }
                hd_mkdir_p_at(c->dst, dir, 0755, NULL);
                copy_file(c, initstate);
                for (guint j = 0; ps && j < ps->len; j++) {
                        g_autofree char *p = g_strdup_printf("%s/%s", params, (char *)ps->pdata[j]);
                        copy_file(c, p);
                }
        }
        {
                g_autoptr(GPtrArray) vfio = hd_list_dir_at(c->src, "dev/vfio", NULL);
                for (guint i = 0; vfio && i < vfio->len; i++) {
                        g_autofree char *p = g_strdup_printf("dev/vfio/%s", (char *)vfio->pdata[i]);
                        put_file(c, p, "", 0);
                }
        }
        if (release && !strchr(release, '/') && strcmp(release, "..") != 0) {
                static const char *const modfiles[] = { "modules.dep", "modules.builtin",
                                                        "modules.alias" };
                g_autofree char *cfg = g_strdup_printf("boot/config-%s", release);
                for (gsize i = 0; i < G_N_ELEMENTS(modfiles); i++) {
                        g_autofree char *p = g_strdup_printf("lib/modules/%s/%s", release,
                                                             modfiles[i]);
                        copy_named_file(c, p);
                }
                copy_named_file(c, cfg);
        }
}

/* Every entry of a bus's devices directory (a link to the device's directory): the link, the
 * directory's attributes (copy_device_dir), and the drivers' directories the devices' driver
 * links name, so they resolve as on the machine. */
static void capture_bus_devices(Capture *c, const char *bus_dir)
{
        g_autoptr(GPtrArray) names = hd_list_dir_at(c->src, bus_dir, NULL);

        for (guint i = 0; names && i < names->len; i++) {
                g_autofree char *link = g_strdup_printf("%s/%s", bus_dir, (char *)names->pdata[i]);
                g_autofree char *target = hd_readlink_at(c->src, link, NULL);
                g_autofree char *real = target ? hd_path_resolve(bus_dir, target) : NULL;
                g_autofree char *drv_link = NULL, *drv = NULL, *drv_real = NULL;

                if (!real)
                        continue;
                copy_device_dir(c, real);
                copy_link(c, link);
                drv_link = g_strdup_printf("%s/driver", real);
                drv = hd_readlink_at(c->src, drv_link, NULL);
                drv_real = drv ? hd_path_resolve(real, drv) : NULL;
                if (drv_real)
                        hd_mkdir_p_at(c->dst, drv_real, 0755, NULL);
        }
}

/* USB devices and their interfaces (usb.h reads their attributes, the interfaces' drivers and
 * the block devices below them, which capture_class copies with sys/class/block). */
static void capture_usb(Capture *c)
{
        if (!hd_exists_at(c->src, "sys/bus/usb/devices", FALSE))
                return;
        hd_mkdir_p_at(c->dst, "sys/bus/usb/devices", 0755, NULL);
        capture_bus_devices(c, "sys/bus/usb/devices");
}

/* Mediated devices (mdev.h): each parent's types with their attributes and instances, the
 * instances themselves (their groups come with capture_iommu) and mdevctl's definitions. */
static void capture_mdev(Capture *c)
{
        g_autoptr(GPtrArray) parents = hd_list_dir_at(c->src, "sys/class/mdev_bus", NULL);
        g_autoptr(GPtrArray) defined = hd_list_dir_at(c->src, "etc/mdevctl.d", NULL);

        for (guint i = 0; parents && i < parents->len; i++) {
                g_autofree char *link =
                        g_strdup_printf("sys/class/mdev_bus/%s", (char *)parents->pdata[i]);
                g_autofree char *target = hd_readlink_at(c->src, link, NULL);
                g_autofree char *real = target ? hd_path_resolve("sys/class/mdev_bus", target)
                                               : NULL;
                g_autofree char *types_dir = NULL;
                g_autoptr(GPtrArray) types = NULL;

                copy_link(c, link);
                if (!real)
                        continue;
                hd_mkdir_p_at(c->dst, real, 0755, NULL);
                types_dir = g_strdup_printf("%s/mdev_supported_types", real);
                types = hd_list_dir_at(c->src, types_dir, NULL);
                for (guint k = 0; types && k < types->len; k++) {
                        static const char *const attrs[] = { "name", "description", "device_api",
                                                             "available_instances", "create" };
                        g_autofree char *tdir =
                                g_strdup_printf("%s/%s", types_dir, (char *)types->pdata[k]);
                        g_autofree char *ddir = g_strdup_printf("%s/devices", tdir);
                        g_autoptr(GPtrArray) devs = hd_list_dir_at(c->src, ddir, NULL);

                        hd_mkdir_p_at(c->dst, ddir, 0755, NULL);
                        for (guint a = 0; a < G_N_ELEMENTS(attrs); a++) {
                                g_autofree char *p = g_strdup_printf("%s/%s", tdir, attrs[a]);

                                copy_file(c, p);
                        }
                        for (guint d = 0; devs && d < devs->len; d++) {
                                g_autofree char *p =
                                        g_strdup_printf("%s/%s", ddir, (char *)devs->pdata[d]);

                                copy_link(c, p);
                        }
                }
        }
        if (hd_exists_at(c->src, "sys/bus/mdev/devices", FALSE)) {
                hd_mkdir_p_at(c->dst, "sys/bus/mdev/devices", 0755, NULL);
                capture_bus_devices(c, "sys/bus/mdev/devices");
        }
        for (guint i = 0; defined && i < defined->len; i++) {
                g_autofree char *dir =
                        g_strdup_printf("etc/mdevctl.d/%s", (char *)defined->pdata[i]);
                g_autoptr(GPtrArray) files = hd_list_dir_at(c->src, dir, NULL);

                for (guint k = 0; files && k < files->len; k++) {
                        g_autofree char *p =
                                g_strdup_printf("%s/%s", dir, (char *)files->pdata[k]);

                        copy_file(c, p);
                }
        }
}

gboolean hd_snapshot_capture(HdCtx *ctx, const char *dest_dir, GError **error)
{
        g_autoptr(GPtrArray) absent = g_ptr_array_new_with_free_func(g_free);
        Capture c = {.ctx = ctx, .src = hd_ctx_get_root_fd(ctx), .dst = -1, .absent = absent};

        if (mkdir(dest_dir, 0755) < 0) {
                int err = errno;
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "cannot create %s: %s", dest_dir,
                            g_strerror(err));
                return FALSE;
        }
        c.dst = open(dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c.dst < 0) {
                int err = errno;
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "cannot open %s: %s", dest_dir,
                            g_strerror(err));
                return FALSE;
        }
        capture_pci(&c);
        capture_iommu(&c);
        capture_class(&c, "sys/class/net");
        capture_class(&c, "sys/class/block");
        capture_class(&c, "sys/class/drm");
        capture_graphics(&c);
        capture_usb(&c);
        capture_mdev(&c);
        capture_scsi(&c);
        capture_host(&c);
        write_manifest(&c);
        hd_ctx_log(ctx, HD_LOG_INFO, "snapshot: %u files, %u links", c.files, c.links);
        close(c.dst);
        return TRUE;
}
