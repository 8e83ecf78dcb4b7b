/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sim backend: imitates the kernel's PCI driver core on any tree shaped like sysfs (a
 * fixture, or an unpacked snapshot of a real machine), so that detach, attach, rollback and
 * recovery run in unit tests and `hostdev --root DIR` can rehearse an operation.
 *
 * What it imitates (drivers/pci/pci-driver.c, drivers/base/bus.c, drivers/vfio):
 *
 *   devices/<a>/driver_override   stored; "" or "\n" clears it to "(null)"
 *   drivers/<drv>/unbind <a>      removes <a>/driver and drivers/<drv>/<a>; ENODEV when <a> is
 *                                 not bound to <drv>
 *   drivers/<drv>/bind <a>        binds when <drv> matches (see below); EBUSY when <a> already
 *                                 has a driver, ENODEV when <drv> does not match, EINVAL from
 *                                 vfio-pci for a bridge
 *   drivers_probe <a>             when <a> has no driver: with an override, the override driver
 *                                 if it is loaded (a vfio-pci probe of a bridge fails the way
 *                                 the kernel's "probe failed with error -22" does: the write
 *                                 succeeds, the device stays unbound); without one, the
 *                                 device's native driver, else a driver whose new_id matches
 *   drivers/<drv>/new_id "v d"    remembered; unbound matching devices are probed at once
 *   drivers/<drv>/remove_id "v d" forgotten
 *   devices/<a>/sriov_numvfs N    checked in the kernel's order (EINVAL, ERANGE above
 *                                 totalvfs, equal is a no-op, ENOENT without a PF driver that
 *                                 configures SR-IOV, EBUSY from N VFs to M without 0 between);
 *                                 N from 0 creates the VFs (address from sriov_offset/stride,
 *                                 ids from the PF and sriov_vf_device, a new IOMMU group each
 *                                 when the PF has one, probed with the PF's VF driver when
 *                                 sriov_drivers_autoprobe is 1); 0 removes them, and while a
 *                                 process holds a VF's /dev/vfio/N open the write waits for it
 *                                 (as vfio's release request does), the count already 0;
 *                                 a removed VF's netdevs and disks go with it (a created VF
 *                                 gets none: the VF driver's own children are not imitated),
 *                                 and the VFs' network settings (sriov/netlink-sim.c) go too
 *   fc_host/<h>/vport_create, vport_delete  NPIV vports: sim-scsi.c
 *   anything else that exists     stored as written (reset, remove, ...)
 *   mdev create / remove          the mdev core, in sim-mdev.c
 *
 * A driver "matches" a device when it is the device's override, or (without an override) its
 * native driver or a new_id match. The native driver stands in for the kernel's modalias
 * lookup: the sim remembers each device's driver the first time it touches the tree, in
 * var/lib/hostdev-sim/state below the root. A device first seen on vfio-pci or pci-stub has no
 * known native driver and stays unbound when reprobed without an override (the limit of
 * imitating modalias matching without the modules). The driver of a PF's VFs is kept the same
 * way under [vf-driver] (learnt from VFs the sim removes, or seeded by mkfixture.py from the
 * topology's vf_driver), so VFs it creates later are probed with it.
 *
 * dev/vfio/<N> appears when a member of group N binds to vfio-pci and goes when none is left,
 * as the kernel registers the group with the first vfio device; whether the group is viable is
 * answered at open time (vfio_inspect), as VFIO_GROUP_GET_STATUS does.
 *
 * load_module creates sys/module/<mod> (and its dependencies from modules.dep) and the PCI
 * driver directory it registers, when <mod> is listed in lib/modules/<release>/modules.dep or
 * modules.builtin (<release> from proc/sys/kernel/osrelease); otherwise it fails like modprobe.
 * A loaded driver probes unbound devices it matches, as driver_register() does.
 *
 * Faults (hd_ctx_set_sim_faults(), or HOSTDEV_SIM_FAIL): a comma-separated list of
 * OP@TARGET=ERRNO where OP is override, unbind, bind or probe (TARGET a device address), load
 * (TARGET a module name) or write (TARGET a path below the root), and ERRNO a name (EBUSY,
 * EINVAL, ENODEV, EIO, EPERM, ENOENT, ENOMEM, EAGAIN, EEXIST, ENOSPC) or a number. TARGET "*"
 * matches anything.
 * A failing probe is silent (the write succeeds and the device stays unbound), like the
 * kernel's; every other fault fails the write with that errno. run@PROGRAM=STATUS makes the
 * host tool PROGRAM (argv[0]: update-grub, grubby, proxmox-boot-tool, kernel-install,
 * update-initramfs, "*" for any) exit with STATUS (a number, or an errno name for its value)
 * after printing a line to stderr, as a failing update-grub does.
 *
 * Reboot (HdBackendOps.reboot) boots the tree again, as far as the kernel's view of the
 * command line and the IOMMU goes:
 *   - proc/cmdline becomes the words the bootloader supplies by itself from the old line
 *     (BOOT_IMAGE=, root=, ro, ...: hd_kernel_arg_supplied_by_boot) followed by the configured
 *     command line (bootloader.h); without a bootloader configuration it stays as it was;
 *   - proc/sys/kernel/random/boot_id gets a new random UUID;
 *   - the IOMMU follows the new command line when the tree has a boot model,
 *     var/lib/hostdev-sim/boot/iommu (mkfixture.py writes it for a host whose firmware has
 *     an IOMMU that the running kernel left off): "IOMMU on at boot" (iommu=off: off; Intel:
 *     intel_iommu=on / =off, else the model's default_on; AMD: on unless amd_iommu=off) makes
 *     the model's entries appear (iommu_groups with their type, identity under iommu=pt, the
 *     units in sys/class/iommu, each device's iommu_group and iommu links); "off" removes them.
 *     Without a model the IOMMU stays as it is.
 * What it does not model: drivers stay bound as they are (no probe order at boot), modules
 * stay loaded, /proc/interrupts is unchanged.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "backend.h"
#include "bootloader.h"
#include "cmdline.h"
#include "ctx.h"
#include "device.h"
#include "fileio.h"
#include "group.h"
#include "hd-error.h"
#include "macros.h"
#include "parse.h"
#include "pciconfig.h"
#include "sim-mdev.h"
#include "sim-scsi.h"
#include "usage.h"
#include "vfio.h"

#define SIM_STATE_DIR "var/lib/hostdev-sim"
#define SIM_STATE_FILE SIM_STATE_DIR "/state"
#define SIM_LOCK_FILE SIM_STATE_DIR "/lock"

/* ---------------------------------------------------------------- faults */

static int errno_from_name(const char *s)
{
        static const struct {
                const char *name;
                int value;
        } table[] = {
                { "EBUSY", EBUSY },   { "EINVAL", EINVAL }, { "ENODEV", ENODEV },
                { "EIO", EIO },       { "EPERM", EPERM },   { "ENOENT", ENOENT },
                { "ENOMEM", ENOMEM }, { "EAGAIN", EAGAIN }, { "EEXIST", EEXIST },
                { "ENOSPC", ENOSPC },
        };
        gint64 n;

        for (gsize i = 0; i < HD_ELEMENTSOF(table); i++)
                if (g_ascii_strcasecmp(s, table[i].name) == 0)
                        return table[i].value;
        if (hd_parse_int(s, 1, 4095, &n))
                return (int)n;
        return EIO;
}

/* The errno injected for @op on @target, 0 for none. */
static int sim_fault(HdCtx *ctx, const char *op, const char *target)
{
        const char *spec = hd_ctx_get_sim_faults(ctx);
        g_auto(GStrv) items = NULL;

        if (!spec || !*spec)
                return 0;
        items = g_strsplit(spec, ",", -1);
        for (char **it = items; *it; it++) {
                g_autofree char *item = g_strstrip(g_strdup(*it));
                char *at = strchr(item, '@');
                char *eq = at ? strchr(at, '=') : NULL;

                if (!at || !eq)
                        continue;
                *at = '\0';
                *eq = '\0';
                if (strcmp(item, op) != 0)
                        continue;
                if (strcmp(at + 1, "*") != 0 && strcmp(at + 1, target) != 0)
                        continue;
                return errno_from_name(eq + 1);
        }
        return 0;
}

static gboolean errno_error(GError **error, int err, const char *path, const char *why)
{
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "cannot write %s: %s%s%s",
                    path, g_strerror(err), why ? " " : "", why ? why : "");
        return FALSE;
}

/* ---------------------------------------------------------------- tree helpers */

/* The device's real directory below the root ("sys/devices/pci0000:00/0000:00:01.0/..."), or
 * NULL when there is no such device. */
static char *device_dir(int root_fd, const char *addr)
{
        g_autofree char *link = g_strdup_printf("sys/bus/pci/devices/%s", addr);
        g_autofree char *target = hd_readlink_at(root_fd, link, NULL);

        if (!target)
                return hd_exists_at(root_fd, link, FALSE) ? g_steal_pointer(&link) : NULL;
        return hd_path_resolve("sys/bus/pci/devices", target);
}

static gboolean device_exists(int root_fd, const char *addr)
{
        g_autofree char *dir = device_dir(root_fd, addr);

        return dir != NULL;
}

/* A relative symlink at @link (below the root) pointing at @target (below the root), made
 * the way the kernel's sysfs makes them: up to the nearest common directory and down again
 * ("../../../devices/..." from sys/bus/pci/devices), so the tree can be moved and a link is
 * resolved alike from the root fd or the sys fd. */
static gboolean make_link(int root_fd, const char *link, const char *target, GError **error)
{
        g_auto(GStrv) from = g_strsplit(link, "/", -1);
        g_auto(GStrv) to = g_strsplit(target, "/", -1);
        guint nf = g_strv_length(from), nt = g_strv_length(to), common = 0;
        g_autoptr(GString) rel = g_string_new(NULL);

        /* from's last part is the link's own name: only its directories count */
        while (common + 1 < nf && common < nt && strcmp(from[common], to[common]) == 0)
                common++;
        for (guint i = common; i + 1 < nf; i++)
                g_string_append(rel, "../");
        for (guint i = common; i < nt; i++)
                g_string_append_printf(rel, "%s%s", to[i], i + 1 < nt ? "/" : "");
        if (rel->len == 0)
                g_string_append(rel, ".");
        (void)hd_unlink_at(root_fd, link, 0);
        if (!hd_symlink_at(rel->str, root_fd, link))
                return errno_error(error, errno, link, NULL);
        return TRUE;
}

static char *current_driver(int root_fd, const char *dir)
{
        g_autofree char *link = g_strdup_printf("%s/driver", dir);

        return hd_readlink_basename_at(root_fd, link);
}

static char *current_override(int root_fd, const char *dir)
{
        g_autofree char *path = g_strdup_printf("%s/driver_override", dir);
        g_autofree char *v = hd_read_attr_optional_at(root_fd, path);

        if (!v || !*v || strcmp(v, "(null)") == 0)
                return NULL;
        return g_steal_pointer(&v);
}

static gboolean driver_loaded(int root_fd, const char *drv)
{
        g_autofree char *path = g_strdup_printf("sys/bus/pci/drivers/%s", drv);

        return hd_exists_at(root_fd, path, FALSE);
}

static HdDevice *load_device(HdCtx *ctx, const char *addr)
{
        HdAddress a;

        if (!hd_address_parse_sysfs_name(addr, &a))
                return NULL;
        return hd_device_load(ctx, &a, HD_FIELD_IDS | HD_FIELD_DRIVER | HD_FIELD_IOMMU |
                                               HD_FIELD_HEADER,
                              NULL);
}

/* ---------------------------------------------------------------- remembered state */

static GKeyFile *state_load(HdCtx *ctx, int root_fd)
{
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autofree char *data = hd_read_file_at(root_fd, SIM_STATE_FILE, 1 << 20, NULL);
        g_autoptr(GPtrArray) names = NULL;

        if (data && g_key_file_load_from_data(kf, data, -1, G_KEY_FILE_NONE, NULL) &&
            g_key_file_has_group(kf, "native"))
                return g_steal_pointer(&kf);
        /* First touch of this tree (the fixture builder may have seeded [vf-driver]): remember
         * every device's driver as its native one. */
        names = hd_list_dir_at(root_fd, "sys/bus/pci/devices", NULL);
        for (guint i = 0; names && i < names->len; i++) {
                g_autofree char *dir = device_dir(root_fd, names->pdata[i]);
                g_autofree char *drv = dir ? current_driver(root_fd, dir) : NULL;

                if (drv && !hd_driver_is_viable(drv))
                        g_key_file_set_string(kf, "native", names->pdata[i], drv);
                else
                        g_key_file_set_string(kf, "native", names->pdata[i], "");
        }
        return g_steal_pointer(&kf);
}

static gboolean state_save(int root_fd, GKeyFile *kf, GError **error)
{
        g_autofree char *data = g_key_file_to_data(kf, NULL, NULL);

        return hd_mkdir_p_at(root_fd, SIM_STATE_DIR, 0755, error) &&
               hd_write_file_atomic_at(root_fd, SIM_STATE_FILE, data, -1, error);
}

/* The native driver of @addr; "" when unknown. A device the state has not seen yet (hot-added
 * since) gets its current driver remembered now. */
static char *native_driver(int root_fd, GKeyFile *kf, const char *addr)
{
        char *drv = g_key_file_get_string(kf, "native", addr, NULL);

        if (!drv) {
                g_autofree char *dir = device_dir(root_fd, addr);
                g_autofree char *cur = dir ? current_driver(root_fd, dir) : NULL;

                drv = g_strdup(cur && !hd_driver_is_viable(cur) ? cur : "");
                g_key_file_set_string(kf, "native", addr, drv);
        }
        return drv;
}

static gboolean new_id_matches(GKeyFile *kf, const char *drv, const HdDevice *dev)
{
        g_autofree char *group = g_strdup_printf("new_id %s", drv);
        g_auto(GStrv) ids = g_key_file_get_string_list(kf, group, "ids", NULL, NULL);
        char want[16];

        g_snprintf(want, sizeof(want), "%04x:%04x", dev->vendor_id & 0xffff,
                   dev->device_id & 0xffff);
        for (char **i = ids; i && *i; i++)
                if (strcmp(*i, want) == 0)
                        return TRUE;
        return FALSE;
}

/* Whether @drv would accept @dev (pci_match_device() with driver_override). */
static gboolean driver_matches(int root_fd, GKeyFile *kf, const HdDevice *dev, const char *drv)
{
        g_autofree char *dir = device_dir(root_fd, dev->name);
        g_autofree char *override = dir ? current_override(root_fd, dir) : NULL;
        g_autofree char *native = NULL;

        if (override)
                return strcmp(override, drv) == 0;
        native = native_driver(root_fd, kf, dev->name);
        return strcmp(native, drv) == 0 || new_id_matches(kf, drv, dev);
}

/* ---------------------------------------------------------------- /dev/vfio nodes */

static void update_vfio_node(HdCtx *ctx, int root_fd, int group)
{
        g_autofree char *dir = g_strdup_printf("sys/kernel/iommu_groups/%d/devices", group);
        g_autoptr(GPtrArray) names = NULL;
        char node[32];
        gboolean any_vfio = FALSE;

        if (group < 0)
                return;
        names = hd_list_dir_at(root_fd, dir, NULL);
        for (guint i = 0; names && i < names->len; i++) {
                g_autofree char *ddir = device_dir(root_fd, names->pdata[i]);
                g_autofree char *drv = ddir ? current_driver(root_fd, ddir) : NULL;

                if (hd_driver_is_vfio(drv))
                        any_vfio = TRUE;
        }
        g_snprintf(node, sizeof(node), "dev/vfio/%d", group);
        if (any_vfio) {
                if (!hd_exists_at(root_fd, node, TRUE) &&
                    hd_mkdir_p_at(root_fd, "dev/vfio", 0755, NULL))
                        (void)hd_write_file_atomic_at(root_fd, node, "", 0, NULL);
        } else {
                (void)hd_unlink_at(root_fd, node, 0);
        }
}

/* ---------------------------------------------------------------- bind / unbind */

static gboolean do_bind(HdCtx *ctx, int root_fd, const HdDevice *dev, const char *drv,
                        GError **error)
{
        g_autofree char *dir = device_dir(root_fd, dev->name);
        g_autofree char *dlink = NULL;
        g_autofree char *dtarget = g_strdup_printf("sys/bus/pci/drivers/%s", drv);
        g_autofree char *blink = g_strdup_printf("sys/bus/pci/drivers/%s/%s", drv, dev->name);

        dlink = g_strdup_printf("%s/driver", dir);
        if (!make_link(root_fd, dlink, dtarget, error) || !make_link(root_fd, blink, dir, error))
                return FALSE;
        update_vfio_node(ctx, root_fd, dev->iommu_group);
        return TRUE;
}

static gboolean do_unbind(HdCtx *ctx, int root_fd, const HdDevice *dev, const char *drv)
{
        g_autofree char *dir = device_dir(root_fd, dev->name);
        g_autofree char *dlink = g_strdup_printf("%s/driver", dir);
        g_autofree char *blink = g_strdup_printf("sys/bus/pci/drivers/%s/%s", drv, dev->name);

        (void)hd_unlink_at(root_fd, dlink, 0);
        (void)hd_unlink_at(root_fd, blink, 0);
        update_vfio_node(ctx, root_fd, dev->iommu_group);
        return TRUE;
}

static gboolean is_bridge_header(const HdDevice *dev)
{
        return dev->header_type > 0 || (dev->header_type < 0 && hd_device_is_bridge(dev));
}

/* Probe one unbound device the way the driver core does, with @only (a driver that is being
 * registered) or with the driver the device's override or ids choose; silent on failure. */
static gboolean probe_device(HdCtx *ctx, int root_fd, GKeyFile *kf, const HdDevice *dev,
                             const char *only, GError **error)
{
        g_autofree char *dir = device_dir(root_fd, dev->name);
        g_autofree char *override = current_override(root_fd, dir);
        g_autofree char *chosen = NULL;

        if (dev->driver)
                return TRUE;
        if (only) {
                chosen = g_strdup(only);
        } else if (override) {
                chosen = g_strdup(override);
        } else {
                g_autofree char *native = native_driver(root_fd, kf, dev->name);
                if (*native)
                        chosen = g_steal_pointer(&native);
                else if (new_id_matches(kf, "vfio-pci", dev))
                        chosen = g_strdup("vfio-pci");
        }
        if (!chosen || !driver_loaded(root_fd, chosen))
                return TRUE;
        if (hd_driver_is_vfio(chosen) && is_bridge_header(dev)) {
                hd_ctx_log(ctx, HD_LOG_DEBUG, "sim: vfio-pci %s: probe failed with error -22",
                           dev->name);
                return TRUE;
        }
        if (sim_fault(ctx, "probe", dev->name)) {
                hd_ctx_log(ctx, HD_LOG_DEBUG, "sim: %s %s: probe failed (injected)", chosen,
                           dev->name);
                return TRUE;
        }
        return do_bind(ctx, root_fd, dev, chosen, error);
}

/* A driver that just appeared (load, new_id) probes every unbound device it matches. */
static gboolean attach_driver(HdCtx *ctx, int root_fd, GKeyFile *kf, const char *drv,
                              GError **error)
{
        g_autoptr(GPtrArray) names = hd_list_dir_at(root_fd, "sys/bus/pci/devices", NULL);

        for (guint i = 0; names && i < names->len; i++) {
                g_autoptr(HdDevice) dev = load_device(ctx, names->pdata[i]);

                if (!dev || dev->driver || !driver_matches(root_fd, kf, dev, drv))
                        continue;
                if (!probe_device(ctx, root_fd, kf, dev, drv, error))
                        return FALSE;
        }
        return TRUE;
}

/* The address a bind/unbind/drivers_probe write names; NULL (ENODEV) when none. */
static HdDevice *device_from_value(HdCtx *ctx, int root_fd, const char *value)
{
        g_autofree char *name = g_strstrip(g_strdup(value));

        if (!device_exists(root_fd, name))
                return NULL;
        return load_device(ctx, name);
}

static gboolean write_override(HdCtx *ctx, int root_fd, const char *path, const char *addr,
                               const char *value, GError **error)
{
        g_autofree char *v = g_strdup(value);
        g_autofree char *stored = NULL;
        int err = sim_fault(ctx, "override", addr);

        if (err)
                return errno_error(error, err, path, "(injected)");
        g_strchomp(v);
        if (strlen(v) >= 4096)
                return errno_error(error, EINVAL, path, NULL);
        stored = g_strdup_printf("%s\n", *v ? v : "(null)");
        return hd_write_file_atomic_at(root_fd, path, stored, -1, error);
}

static gboolean write_driver_file(HdCtx *ctx, int root_fd, GKeyFile *kf, const char *path,
                                  const char *drv, const char *file, const char *value,
                                  GError **error)
{
        g_autoptr(HdDevice) dev = NULL;
        int err;

        if (strcmp(file, "new_id") == 0 || strcmp(file, "remove_id") == 0) {
                g_autofree char *group = g_strdup_printf("new_id %s", drv);
                g_autofree char *text = g_strstrip(g_strdup(value));
                g_auto(GStrv) f = g_strsplit_set(text, " ", -1);
                g_auto(GStrv) ids = g_key_file_get_string_list(kf, group, "ids", NULL, NULL);
                g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
                guint64 v, d;
                char id[16];

                if (g_strv_length(f) < 2 || !hd_parse_hex(f[0], 0xffff, &v) ||
                    !hd_parse_hex(f[1], 0xffff, &d))
                        return errno_error(error, EINVAL, path, NULL);
                g_snprintf(id, sizeof(id), "%04x:%04x", (guint)v, (guint)d);
                for (char **i = ids; i && *i; i++)
                        if (strcmp(*i, id) != 0)
                                g_ptr_array_add(keep, g_strdup(*i));
                if (strcmp(file, "new_id") == 0)
                        g_ptr_array_add(keep, g_strdup(id));
                else if (g_strv_length(ids) == keep->len)
                        return errno_error(error, ENODEV, path, NULL);
                g_key_file_set_string_list(kf, group, "ids", (const char *const *)keep->pdata,
                                           keep->len);
                if (strcmp(file, "new_id") == 0)
                        return attach_driver(ctx, root_fd, kf, drv, error);
                return TRUE;
        }

        dev = device_from_value(ctx, root_fd, value);
        if (!dev)
                return errno_error(error, ENODEV, path, NULL);
        if (strcmp(file, "unbind") == 0) {
                if ((err = sim_fault(ctx, "unbind", dev->name)))
                        return errno_error(error, err, path, "(injected)");
                if (g_strcmp0(dev->driver, drv) != 0)
                        return errno_error(error, ENODEV, path, NULL);
                return do_unbind(ctx, root_fd, dev, drv);
        }
        if (strcmp(file, "bind") == 0) {
                if ((err = sim_fault(ctx, "bind", dev->name)))
                        return errno_error(error, err, path, "(injected)");
                if (dev->driver)
                        return errno_error(error, EBUSY, path, NULL);
                if (hd_driver_is_vfio(drv) && is_bridge_header(dev))
                        return errno_error(error, EINVAL, path, NULL);
                /* bind_store() does not consult modalias: any driver the device's ids or
                 * override allow; the native driver stands for the ids here. */
                if (!driver_matches(root_fd, kf, dev, drv))
                        return errno_error(error, ENODEV, path, NULL);
                return do_bind(ctx, root_fd, dev, drv, error);
        }
        return hd_write_file_atomic_at(root_fd, path, value, -1, error);
}

/* ---------------------------------------------------------------- SR-IOV (drivers/pci/iov.c) */

/* Remove @path (below the root) and everything in it; links are removed, never followed. */
static void remove_tree(int root_fd, const char *path)
{
        struct stat st;
        g_autoptr(GPtrArray) names = NULL;

        if (!hd_stat_at(root_fd, path, TRUE, &st))
                return;
        if (!S_ISDIR(st.st_mode)) {
                (void)hd_unlink_at(root_fd, path, 0);
                return;
        }
        names = hd_list_dir_at(root_fd, path, NULL);
        for (guint i = 0; names && i < names->len; i++) {
                g_autofree char *child = g_strdup_printf("%s/%s", path, (char *)names->pdata[i]);

                remove_tree(root_fd, child);
        }
        (void)hd_unlink_at(root_fd, path, AT_REMOVEDIR);
}

/* The kernel allocates IOMMU group ids with an IDA: the lowest free one. */
static int lowest_free_group(int root_fd)
{
        for (int n = 0; n < 65536; n++) {
                char path[48];

                g_snprintf(path, sizeof(path), "sys/kernel/iommu_groups/%d", n);
                if (!hd_exists_at(root_fd, path, TRUE))
                        return n;
        }
        return -1;
}

/* A PF attribute as a number (decimal, or hex with @hex); @fallback when absent or garbled. */
static guint64 pf_number(int root_fd, const char *dir, const char *name, gboolean hex,
                         guint64 fallback)
{
        g_autofree char *path = g_strdup_printf("%s/%s", dir, name);
        g_autofree char *text = hd_read_attr_optional_at(root_fd, path);
        guint64 v;
        gint64 d;

        if (!text)
                return fallback;
        g_strstrip(text);
        if (hex)
                return hd_parse_hex(text, G_MAXUINT32, &v) ? v : fallback;
        return hd_parse_int(text, 0, G_MAXINT32, &d) ? (guint64)d : fallback;
}

/* VF @i's address: the PF's routing id + offset + stride * i (pci_iov_virtfn_bus/devfn). */
static gboolean vf_name(const HdDevice *pf, guint64 offset, guint64 stride, guint64 i, char *out)
{
        guint64 rid = ((guint64)pf->address.bus << 8) + ((guint64)pf->address.slot << 3) +
                      pf->address.function + offset + stride * i;
        HdAddress a = { .domain = pf->address.domain };

        if (rid > 0xffff)
                return FALSE;
        a.bus = (guint8)(rid >> 8);
        a.slot = (guint8)((rid >> 3) & 0x1f);
        a.function = (guint8)(rid & 7);
        hd_address_format(&a, out);
        return TRUE;
}

static gboolean put_file(int root_fd, const char *dir, const char *name, const char *data,
                         gssize len, GError **error)
{
        g_autofree char *path = g_strdup_printf("%s/%s", dir, name);

        return hd_write_file_atomic_at(root_fd, path, data, len, error);
}

/* Attributes a VF shows as its PF does (pci_iov_add_virtfn() copies ids and class; the rest
 * the PCI core reads the same way for both). */
static const char *const vf_copied_attrs[] = {
        "vendor", "subsystem_vendor", "subsystem_device", "class", "revision", "numa_node",
        "local_cpulist", "local_cpus", "power_state", "d3cold_allowed", "msi_bus",
        "broken_parity_status", "dma_mask_bits", "consistent_dma_mask_bits",
        "current_link_speed", "current_link_width", "max_link_speed", "max_link_width",
};

/* The attribute files of a new VF in @dir. */
static gboolean vf_files(int root_fd, const char *pf_dir, const char *dir, const char *name,
                         guint vf_device, GError **error)
{
        g_autofree char *cfg_path = g_strdup_printf("%s/config", pf_dir);
        g_autoptr(GBytes) cfg = hd_read_bytes_at(root_fd, cfg_path, 4096, NULL);
        guint v = (guint)pf_number(root_fd, pf_dir, "vendor", TRUE, 0xffff);
        guint sv = (guint)pf_number(root_fd, pf_dir, "subsystem_vendor", TRUE, 0);
        guint sd = (guint)pf_number(root_fd, pf_dir, "subsystem_device", TRUE, 0);
        guint c = (guint)pf_number(root_fd, pf_dir, "class", TRUE, 0);
        g_autofree char *modalias = g_strdup_printf(
                "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", v, vf_device, sv, sd, c >> 16,
                (c >> 8) & 0xff, c & 0xff);
        g_autofree char *modalias_line = g_strdup_printf("%s\n", modalias);
        g_autofree char *uevent = g_strdup_printf(
                "PCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\nPCI_SLOT_NAME=%s\n"
                "MODALIAS=%s\n",
                c, v, vf_device, sv, sd, name, modalias);
        g_autofree char *device = g_strdup_printf("0x%04x\n", vf_device);
        const char *const own[][2] = {
                { "device", device },           { "modalias", modalias_line },
                { "uevent", uevent },           { "driver_override", "(null)\n" },
                { "enable", "0\n" },            { "irq", "0\n" },
                { "reset_method", "flr\n" },    { "reset", "" },
                { "remove", "" },               { "rescan", "" },
                { "ari_enabled", "0\n" },       { "sriov_vf_msix_count", "0\n" },
        };

        for (guint i = 0; i < G_N_ELEMENTS(vf_copied_attrs); i++) {
                g_autofree char *src = g_strdup_printf("%s/%s", pf_dir, vf_copied_attrs[i]);
                g_autofree char *text = hd_read_attr_optional_at(root_fd, src);
                g_autofree char *line = NULL;

                if (!text)
                        continue;
                line = g_strdup_printf("%s\n", g_strchomp(text));
                if (!put_file(root_fd, dir, vf_copied_attrs[i], line, -1, error))
                        return FALSE;
        }
        for (guint i = 0; i < G_N_ELEMENTS(own); i++)
                if (!put_file(root_fd, dir, own[i][0], own[i][1], -1, error))
                        return FALSE;
        if (cfg && g_bytes_get_size(cfg) >= 4) {
                /* The PF's config space with the VF's device id (the kernel answers a VF's ids
                 * from the PF's SR-IOV capability; the rest of the header is alike). */
                gsize len = g_bytes_get_size(cfg);
                g_autofree guint8 *copy = g_memdup2(g_bytes_get_data(cfg, NULL), len);

                copy[2] = (guint8)(vf_device & 0xff);
                copy[3] = (guint8)(vf_device >> 8);
                if (!put_file(root_fd, dir, "config", (const char *)copy, (gssize)len, error))
                        return FALSE;
        }
        return TRUE;
}

/* The IOMMU group of a new VF: a group of its own (what the kernel gives a VF behind ACS, as
 * the PF's own group shows), with the PF group's type and unit. Nothing without an IOMMU. */
static gboolean vf_group(int root_fd, const char *pf_dir, const char *dir, const char *name,
                         GError **error)
{
        g_autofree char *pf_group_link = g_strdup_printf("%s/iommu_group", pf_dir);
        g_autofree char *pf_group = hd_readlink_at(root_fd, pf_group_link, NULL);
        g_autofree char *pf_group_dir = NULL, *type_path = NULL, *type = NULL;
        g_autofree char *unit_link = g_strdup_printf("%s/iommu", pf_dir);
        g_autofree char *unit = hd_readlink_at(root_fd, unit_link, NULL);
        g_autofree char *gdir = NULL, *member = NULL, *members = NULL, *link = NULL;
        int n;

        if (!pf_group)
                return TRUE;
        pf_group_dir = hd_path_resolve(pf_dir, pf_group);
        type_path = g_strdup_printf("%s/type", pf_group_dir);
        type = hd_read_attr_optional_at(root_fd, type_path);
        if ((n = lowest_free_group(root_fd)) < 0)
                return errno_error(error, ENOSPC, "sys/kernel/iommu_groups", NULL);
        gdir = g_strdup_printf("sys/kernel/iommu_groups/%d", n);
        member = g_strdup_printf("%s/devices/%s", gdir, name);
        members = g_strdup_printf("%s/devices", gdir);
        link = g_strdup_printf("%s/iommu_group", dir);
        if (!hd_mkdir_p_at(root_fd, members, 0755, error) ||
            !put_file(root_fd, gdir, "type", type ? type : "DMA\n", -1, error) ||
            !put_file(root_fd, gdir, "reserved_regions", "", -1, error) ||
            !make_link(root_fd, member, dir, error) || !make_link(root_fd, link, gdir, error))
                return FALSE;
        if (unit) {
                g_autofree char *unit_dir = hd_path_resolve(pf_dir, unit);
                g_autofree char *ulink = g_strdup_printf("%s/iommu", dir);

                if (!make_link(root_fd, ulink, unit_dir, error))
                        return FALSE;
        }
        return TRUE;
}

/* pci_iov_add_virtfn(): VF @i of @pf appears beside it, and is probed when the PF's
 * sriov_drivers_autoprobe is 1 (with the VF driver the sim knows for this PF). */
static gboolean vf_add(HdCtx *ctx, int root_fd, GKeyFile *kf, const HdDevice *pf,
                       const char *pf_dir, guint64 i, GError **error)
{
        guint64 offset = pf_number(root_fd, pf_dir, "sriov_offset", FALSE, 1);
        guint64 stride = pf_number(root_fd, pf_dir, "sriov_stride", FALSE, 1);
        guint vf_device = (guint)pf_number(root_fd, pf_dir, "sriov_vf_device", TRUE,
                                           pf->device_id & 0xffff);
        g_autofree char *parent = g_path_get_dirname(pf_dir);
        g_autofree char *dir = NULL, *bus_link = NULL, *virtfn = NULL, *physfn = NULL;
        g_autofree char *subsys = NULL, *vf_driver = NULL, *msi = NULL;
        g_autoptr(HdDevice) vf = NULL;
        char name[HD_ADDRESS_STRLEN];

        if (!vf_name(pf, offset, stride, i, name))
                return errno_error(error, ENOMEM, pf_dir, "(VF beyond bus 255)");
        dir = g_strdup_printf("%s/%s", parent, name);
        bus_link = g_strdup_printf("sys/bus/pci/devices/%s", name);
        virtfn = g_strdup_printf("%s/virtfn%" G_GUINT64_FORMAT, pf_dir, i);
        physfn = g_strdup_printf("%s/physfn", dir);
        subsys = g_strdup_printf("%s/subsystem", dir);
        msi = g_strdup_printf("%s/msi_irqs", dir);
        if (!hd_mkdir_p_at(root_fd, msi, 0755, error))
                return FALSE;
        if (!vf_files(root_fd, pf_dir, dir, name, vf_device, error) ||
            !make_link(root_fd, physfn, pf_dir, error) ||
            !make_link(root_fd, subsys, "sys/bus/pci", error) ||
            !vf_group(root_fd, pf_dir, dir, name, error) ||
            !make_link(root_fd, bus_link, dir, error) || !make_link(root_fd, virtfn, dir, error))
                return FALSE;
        vf_driver = g_key_file_get_string(kf, "vf-driver", pf->name, NULL);
        g_key_file_set_string(kf, "native", name, vf_driver ? vf_driver : "");
        if (pf_number(root_fd, pf_dir, "sriov_drivers_autoprobe", FALSE, 1) == 0)
                return TRUE;
        vf = load_device(ctx, name);
        return !vf || probe_device(ctx, root_fd, kf, vf, NULL, error);
}

/* pci_iov_remove_virtfn(): VF @vf (the PF's @virtfn) goes: released by its driver, its names
 * and its group gone (the group with it when it was the last member). The driver the VF had
 * is remembered as the PF's VF driver, for VFs created later. */
static void vf_remove(HdCtx *ctx, int root_fd, GKeyFile *kf, const HdDevice *pf,
                      const char *pf_dir, const char *virtfn, const HdDevice *vf)
{
        g_autofree char *link = g_strdup_printf("%s/%s", pf_dir, virtfn);
        g_autofree char *target = hd_readlink_at(root_fd, link, NULL);
        g_autofree char *dir = target ? hd_path_resolve(pf_dir, target) : NULL;
        g_autofree char *native = g_key_file_get_string(kf, "native", vf->name, NULL);
        g_autofree char *bus_link = g_strdup_printf("sys/bus/pci/devices/%s", vf->name);

        if (native && *native)
                g_key_file_set_string(kf, "vf-driver", pf->name, native);
        (void)g_key_file_remove_key(kf, "native", vf->name, NULL);
        (void)hd_unlink_at(root_fd, link, 0);
        (void)hd_unlink_at(root_fd, bus_link, 0);
        if (vf->driver) {
                g_autofree char *blink =
                        g_strdup_printf("sys/bus/pci/drivers/%s/%s", vf->driver, vf->name);

                (void)hd_unlink_at(root_fd, blink, 0);
        }
        if (vf->iommu_group >= 0) {
                g_autofree char *gdir =
                        g_strdup_printf("sys/kernel/iommu_groups/%d", vf->iommu_group);
                g_autofree char *member = g_strdup_printf("%s/devices/%s", gdir, vf->name);
                g_autofree char *members = g_strdup_printf("%s/devices", gdir);
                g_autoptr(GPtrArray) left = NULL;

                (void)hd_unlink_at(root_fd, member, 0);
                left = hd_list_dir_at(root_fd, members, NULL);
                if (!left || left->len == 0)
                        remove_tree(root_fd, gdir);
                update_vfio_node(ctx, root_fd, vf->iommu_group);
        }
        if (dir) {
                /* the VF driver's netdevs and disks are unregistered with it */
                static const char *const classes[][2] = {
                        { "net", "sys/class/net" },
                        { "block", "sys/class/block" },
                        { "block", "sys/block" },
                };

                for (guint c = 0; c < G_N_ELEMENTS(classes); c++) {
                        g_autofree char *sub = g_strdup_printf("%s/%s", dir, classes[c][0]);
                        g_autoptr(GPtrArray) names = hd_list_dir_at(root_fd, sub, NULL);

                        for (guint k = 0; names && k < names->len; k++) {
                                g_autofree char *cl = g_strdup_printf(
                                        "%s/%s", classes[c][1], (char *)names->pdata[k]);

                                (void)hd_unlink_at(root_fd, cl, 0);
                        }
                }
                remove_tree(root_fd, dir);
        }
}

/* The PF driver forgets its VFs' network settings with them (sriov/netlink-sim.c keeps them
 * per PF: what the driver lacks stays, the VFs' entries go). */
static void forget_vf_net(int root_fd, const char *pf)
{
        g_autofree char *path = g_strdup_printf("var/lib/hostdev-sim/vf-net/%s.json", pf);
        g_autofree char *data = hd_read_file_at(root_fd, path, 4 * 1024 * 1024, NULL);
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(JsonGenerator) gen = NULL;
        g_autofree char *out = NULL;
        JsonNode *root;

        if (!data || !json_parser_load_from_data(parser, data, -1, NULL) ||
            !(root = json_parser_get_root(parser)) || !JSON_NODE_HOLDS_OBJECT(root))
                return;
        json_object_remove_member(json_node_get_object(root), "vfs");
        gen = json_generator_new();
        json_generator_set_root(gen, root);
        out = json_generator_to_data(gen, NULL);
        (void)hd_write_file_atomic_at(root_fd, path, out, -1, NULL);
}

static gboolean group_held(HdCtx *ctx, int group)
{
        g_autoptr(GPtrArray) holders = group >= 0 ? hd_usage_group_holders(ctx, group) : NULL;

        return holders && holders->len > 0;
}

static int compare_virtfn(gconstpointer a, gconstpointer b)
{
        const char *x = *(const char *const *)a + strlen("virtfn");
        const char *y = *(const char *const *)b + strlen("virtfn");

        return (int)(g_ascii_strtoull(x, NULL, 10) > g_ascii_strtoull(y, NULL, 10)) -
               (int)(g_ascii_strtoull(x, NULL, 10) < g_ascii_strtoull(y, NULL, 10));
}

/* The PF's virtfnN links, in N order. */
static GPtrArray *pf_virtfns(int root_fd, const char *pf_dir)
{
        g_autoptr(GPtrArray) names = hd_list_dir_at(root_fd, pf_dir, NULL);
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; names && i < names->len; i++)
                if (g_str_has_prefix(names->pdata[i], "virtfn"))
                        g_ptr_array_add(out, g_strdup(names->pdata[i]));
        g_ptr_array_sort(out, compare_virtfn);
        return out;
}

/* sriov_numvfs_store(): checked in the kernel's order (EINVAL, ERANGE, no-op when equal,
 * ENOENT without a PF driver able to configure SR-IOV, EBUSY from N VFs to M), then the VFs
 * are created or removed as the kernel does. Removing a VF a process holds open waits, as
 * vfio's release request does, until the holder lets go; the count already reads 0 and the
 * VFs' names are gone meanwhile. */
static gboolean write_numvfs(HdCtx *ctx, int root_fd, GKeyFile *kf, const char *path,
                             const char *pf_name, const char *value, GError **error)
{
        g_autofree char *pf_dir = device_dir(root_fd, pf_name);
        g_autofree char *total_path = NULL;
        g_autofree char *total_text = NULL, *cur_text = NULL, *driver = NULL;
        g_autofree char *want_text = g_strstrip(g_strdup(value));
        g_autoptr(HdDevice) pf = NULL;
        g_autoptr(GPtrArray) virtfns = NULL;
        gint64 total, cur = 0, want;

        if (!pf_dir || !(pf = load_device(ctx, pf_name)))
                return errno_error(error, ENOENT, path, NULL);
        total_path = g_strdup_printf("%s/sriov_totalvfs", pf_dir);
        total_text = hd_read_attr_optional_at(root_fd, total_path);
        cur_text = hd_read_attr_optional_at(root_fd, path);
        if (!total_text || !hd_parse_int(g_strstrip(total_text), 0, 65535, &total))
                return errno_error(error, ENOENT, path, NULL);
        if (!hd_parse_int(want_text, 0, 65535, &want))
                return errno_error(error, EINVAL, path, NULL);
        if (want > total)
                return errno_error(error, ERANGE, path, NULL);
        if (cur_text)
                (void)hd_parse_int(g_strstrip(cur_text), 0, 65535, &cur);
        if (want == cur)
                return TRUE;
        /* "no driver bound to device; cannot configure SR-IOV"; pci-stub has no
         * sriov_configure, vfio-pci refuses unless loaded with enable_sriov. */
        driver = current_driver(root_fd, pf_dir);
        if (!driver || strcmp(driver, "pci-stub") == 0)
                return errno_error(error, ENOENT, path, NULL);
        if (hd_driver_is_vfio(driver)) {
                g_autofree char *p = hd_read_attr_optional_at(
                        root_fd, "sys/module/vfio_pci/parameters/enable_sriov");

                if (!p || (*p != 'Y' && *p != '1'))
                        return errno_error(error, ENOENT, path, NULL);
        }
        /* the kernel: "%d VFs already enabled. Disable before enabling %d VFs" */
        if (cur > 0 && want > 0)
                return errno_error(error, EBUSY, path, NULL);
        virtfns = pf_virtfns(root_fd, pf_dir);
        if (want == 0) {
                g_autoptr(GPtrArray) vfs =
                        g_ptr_array_new_with_free_func((GDestroyNotify)hd_device_free);

                for (guint i = 0; i < virtfns->len; i++) {
                        g_autofree char *link =
                                g_strdup_printf("%s/%s", pf_dir, (char *)virtfns->pdata[i]);
                        g_autofree char *target = hd_readlink_at(root_fd, link, NULL);
                        g_autofree char *name = target ? g_path_get_basename(target) : NULL;
                        HdDevice *vf = name ? load_device(ctx, name) : NULL;

                        if (vf)
                                g_free(native_driver(root_fd, kf, vf->name));
                        g_ptr_array_add(vfs, vf);
                }
                if (!hd_write_file_atomic_at(root_fd, path, "0\n", -1, error))
                        return FALSE;
                for (guint i = 0; i < vfs->len; i++) {
                        const HdDevice *vf = vfs->pdata[i];
                        g_autofree char *bus_link =
                                vf ? g_strdup_printf("sys/bus/pci/devices/%s", vf->name) : NULL;

                        if (bus_link)
                                (void)hd_unlink_at(root_fd, bus_link, 0);
                }
                for (guint i = 0; i < vfs->len; i++) {
                        const HdDevice *vf = vfs->pdata[i];

                        if (!vf)
                                continue;
                        while (group_held(ctx, vf->iommu_group))
                                g_usleep(20 * 1000);
                        vf_remove(ctx, root_fd, kf, pf, pf_dir, virtfns->pdata[i], vf);
                }
                forget_vf_net(root_fd, pf->name);
                return TRUE;
        }
        for (gint64 i = 0; i < want; i++)
                if (!vf_add(ctx, root_fd, kf, pf, pf_dir, (guint64)i, error))
                        return FALSE;
        {
                g_autofree char *line = g_strdup_printf("%" G_GINT64_FORMAT "\n", want);

                return hd_write_file_atomic_at(root_fd, path, line, -1, error);
        }
}

/* The kernel makes each driver-core write atomic (device_lock, the bus's locks); the sim
 * reads and rewrites the tree and its state file, so it holds one lock file across each write
 * and module load: threads and processes writing at once (the agent runs transactions on
 * different groups in parallel) never lose an update. */
static int sim_lock(int root_fd, GError **error)
{
        if (!hd_mkdir_p_at(root_fd, SIM_STATE_DIR, 0755, error))
                return -1;
        return hd_lock_file_at(root_fd, SIM_LOCK_FILE, error);
}

static gboolean sim_write_locked(HdCtx *ctx, int root_fd, const char *path, const char *value,
                                 GError **error);

static gboolean sim_write(HdCtx *ctx, int root_fd, const char *path, const char *value,
                          GError **error)
{
        hd_autofd int lock = sim_lock(root_fd, error);

        if (lock < 0)
                return FALSE;
        return sim_write_locked(ctx, root_fd, path, value, error);
}

static gboolean sim_write_locked(HdCtx *ctx, int root_fd, const char *path, const char *value,
                                 GError **error)
{
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);
        guint n = g_strv_length(parts);
        g_autoptr(GKeyFile) kf = NULL;
        gboolean ok;
        int err;

        if ((err = sim_fault(ctx, "write", path)))
                return errno_error(error, err, path, "(injected)");
        if (hd_sim_mdev_handles(path)) /* sim-mdev.c */
                return hd_sim_mdev_write(ctx, root_fd, path, value, error);
        if (hd_sim_scsi_handles(path)) /* FC vports: sim-scsi.c */
                return hd_sim_scsi_write(ctx, root_fd, path, value, error);
        if (n < 4 || strcmp(parts[0], "sys") != 0 || strcmp(parts[1], "bus") != 0 ||
            strcmp(parts[2], "pci") != 0) {
                if (!hd_exists_at(root_fd, path, FALSE))
                        return errno_error(error, ENOENT, path, NULL);
                return hd_write_file_atomic_at(root_fd, path, value, -1, error);
        }
        kf = state_load(ctx, root_fd);
        if (n == 6 && strcmp(parts[3], "devices") == 0 &&
            strcmp(parts[5], "driver_override") == 0) {
                if (!device_exists(root_fd, parts[4]))
                        return errno_error(error, ENOENT, path, NULL);
                ok = write_override(ctx, root_fd, path, parts[4], value, error);
        } else if (n == 6 && strcmp(parts[3], "devices") == 0 &&
                   strcmp(parts[5], "sriov_numvfs") == 0) {
                ok = write_numvfs(ctx, root_fd, kf, path, parts[4], value, error);
        } else if (n == 6 && strcmp(parts[3], "drivers") == 0) {
                if (!driver_loaded(root_fd, parts[4]))
                        return errno_error(error, ENOENT, path, NULL);
                ok = write_driver_file(ctx, root_fd, kf, path, parts[4], parts[5], value, error);
        } else if (n == 4 && strcmp(parts[3], "drivers_probe") == 0) {
                g_autoptr(HdDevice) dev = device_from_value(ctx, root_fd, value);

                /* bus_rescan_devices_helper() ignores probe errors; an unknown name is ENODEV. */
                if (!dev)
                        return errno_error(error, ENODEV, path, NULL);
                ok = probe_device(ctx, root_fd, kf, dev, NULL, error);
        } else {
                if (!hd_exists_at(root_fd, path, FALSE))
                        return errno_error(error, ENOENT, path, NULL);
                ok = hd_write_file_atomic_at(root_fd, path, value, -1, error);
        }
        if (!ok)
                return FALSE;
        return state_save(root_fd, kf, error);
}

/* ---------------------------------------------------------------- modules */

/* "kernel/drivers/vfio/pci/vfio-pci.ko.xz" -> "vfio_pci" */
static char *module_name_of(const char *path)
{
        g_autofree char *base = g_path_get_basename(path);
        char *dot = strstr(base, ".ko");

        if (dot)
                *dot = '\0';
        g_strdelimit(base, "-", '_');
        return g_steal_pointer(&base);
}

/* The PCI driver a module registers, where its name differs from the module's. */
static const char *module_driver(const char *mod)
{
        static const struct {
                const char *module, *driver;
        } table[] = {
                { "vfio_pci", "vfio-pci" },      { "pci_stub", "pci-stub" },
                { "xhci_pci", "xhci_hcd" },      { "ehci_pci", "ehci-pci" },
                { "i2c_i801", "i801_smbus" },    { "i2c_piix4", "piix4_smbus" },
                { "vfio", NULL },                { "vfio_pci_core", NULL },
                { "vfio_iommu_type1", NULL },    { "vfio_virqfd", NULL },
                { "irqbypass", NULL },           { "kvm", NULL },
                { "kvm_intel", NULL },           { "kvm_amd", NULL },
                { "nvme_core", NULL },           { "libahci", NULL },
        };

        for (gsize i = 0; i < HD_ELEMENTSOF(table); i++)
                if (strcmp(mod, table[i].module) == 0)
                        return table[i].driver;
        return mod;
}

/* Find @mod in modules.dep (returning its dependencies) or modules.builtin. */
static gboolean module_lookup(int root_fd, const char *mod, GPtrArray *deps, gboolean *builtin,
                              char **release_out)
{
        g_autofree char *release = hd_read_attr_optional_at(root_fd, "proc/sys/kernel/osrelease");
        g_autofree char *dep_path = NULL, *builtin_path = NULL;
        g_autofree char *dep = NULL, *bi = NULL;

        if (!release)
                return FALSE;
        dep_path = g_strdup_printf("lib/modules/%s/modules.dep", release);
        builtin_path = g_strdup_printf("lib/modules/%s/modules.builtin", release);
        dep = hd_read_file_at(root_fd, dep_path, 1 << 24, NULL);
        bi = hd_read_file_at(root_fd, builtin_path, 1 << 24, NULL);
        *release_out = g_steal_pointer(&release);
        if (dep) {
                g_auto(GStrv) lines = g_strsplit(dep, "\n", -1);
                for (char **l = lines; *l; l++) {
                        char *colon = strchr(*l, ':');
                        g_autofree char *name = NULL;

                        if (!colon)
                                continue;
                        *colon = '\0';
                        name = module_name_of(*l);
                        if (strcmp(name, mod) != 0)
                                continue;
                        {
                                g_auto(GStrv) d = g_strsplit(g_strstrip(colon + 1), " ", -1);
                                for (char **x = d; *x; x++)
                                        if (**x)
                                                g_ptr_array_add(deps, module_name_of(*x));
                        }
                        *builtin = FALSE;
                        return TRUE;
                }
        }
        if (bi) {
                g_auto(GStrv) lines = g_strsplit(bi, "\n", -1);
                for (char **l = lines; *l; l++) {
                        g_autofree char *name = **l ? module_name_of(*l) : NULL;
                        if (name && strcmp(name, mod) == 0) {
                                *builtin = TRUE;
                                return TRUE;
                        }
                }
        }
        return FALSE;
}

static gboolean instantiate_module(HdCtx *ctx, int root_fd, const char *mod, gboolean builtin,
                                   GError **error)
{
        g_autofree char *mdir = g_strdup_printf("sys/module/%s", mod);
        const char *drv = module_driver(mod);

        if (!hd_mkdir_p_at(root_fd, mdir, 0755, error))
                return FALSE;
        if (!builtin) {
                g_autofree char *init = g_strdup_printf("%s/initstate", mdir);
                g_autofree char *ref = g_strdup_printf("%s/refcnt", mdir);
                if (!hd_write_file_atomic_at(root_fd, init, "live\n", -1, error) ||
                    !hd_write_file_atomic_at(root_fd, ref, "0\n", -1, error))
                        return FALSE;
        }
        if (drv && !driver_loaded(root_fd, drv)) {
                static const char *const files[] = { "bind", "unbind", "new_id", "remove_id",
                                                     "uevent" };
                g_autofree char *ddir = g_strdup_printf("sys/bus/pci/drivers/%s", drv);
                g_autofree char *mlink = g_strdup_printf("%s/module", ddir);

                if (!hd_mkdir_p_at(root_fd, ddir, 0755, error))
                        return FALSE;
                for (gsize i = 0; i < HD_ELEMENTSOF(files); i++) {
                        g_autofree char *f = g_strdup_printf("%s/%s", ddir, files[i]);
                        if (!hd_write_file_atomic_at(root_fd, f, "", 0, error))
                                return FALSE;
                }
                if (!builtin && !make_link(root_fd, mlink, mdir, error))
                        return FALSE;
        }
        if (strcmp(mod, "vfio") == 0 && !hd_exists_at(root_fd, "dev/vfio/vfio", FALSE)) {
                if (!hd_mkdir_p_at(root_fd, "dev/vfio", 0755, error) ||
                    !hd_write_file_atomic_at(root_fd, "dev/vfio/vfio", "", 0, error))
                        return FALSE;
        }
        return TRUE;
}

static gboolean sim_load_module_locked(HdCtx *ctx, int root_fd, const char *module,
                                       GError **error);

static gboolean sim_load_module(HdCtx *ctx, int root_fd, const char *module, GError **error)
{
        hd_autofd int lock = sim_lock(root_fd, error);

        if (lock < 0)
                return FALSE;
        return sim_load_module_locked(ctx, root_fd, module, error);
}

static gboolean sim_load_module_locked(HdCtx *ctx, int root_fd, const char *module,
                                       GError **error)
{
        g_autofree char *mod = g_strdelimit(g_strdup(module), "-", '_');
        g_autoptr(GPtrArray) deps = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *release = NULL;
        g_autoptr(GKeyFile) kf = NULL;
        gboolean builtin = FALSE;
        const char *drv;
        int err;

        if ((err = sim_fault(ctx, "load", mod))) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "modprobe %s failed: %s (injected)", mod, g_strerror(err));
                return FALSE;
        }
        if (!module_lookup(root_fd, mod, deps, &builtin, &release)) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "modprobe: FATAL: Module %s not found in directory "
                            "/lib/modules/%s",
                            mod, release ? release : "(unknown release)");
                return FALSE;
        }
        kf = state_load(ctx, root_fd);
        /* Dependencies first, as modprobe loads them; vfio pulls its IOMMU backend in through
         * a softdep. */
        for (guint i = deps->len; i > 0; i--)
                if (!instantiate_module(ctx, root_fd, deps->pdata[i - 1], FALSE, error))
                        return FALSE;
        if (!instantiate_module(ctx, root_fd, mod, builtin, error))
                return FALSE;
        if (strcmp(mod, "vfio_pci") == 0 || strcmp(mod, "vfio") == 0) {
                g_autoptr(GPtrArray) tdeps = g_ptr_array_new_with_free_func(g_free);
                g_autofree char *rel = NULL;
                gboolean tbuiltin = FALSE;
                if (module_lookup(root_fd, "vfio_iommu_type1", tdeps, &tbuiltin, &rel) &&
                    !instantiate_module(ctx, root_fd, "vfio_iommu_type1", tbuiltin, error))
                        return FALSE;
                if (!instantiate_module(ctx, root_fd, "vfio", FALSE, error))
                        return FALSE;
        }
        drv = module_driver(mod);
        if (drv && !attach_driver(ctx, root_fd, kf, drv, error))
                return FALSE;
        return state_save(root_fd, kf, error);
}

/* Tests make a host tool fail on demand: HOSTDEV_SIM_FAIL_RUN names the program (argv[0])
 * or is "*" for every program. Read at each call so a test can set it between steps. */
static gboolean sim_run_should_fail(const char *program)
{
        const char *fail = g_getenv("HOSTDEV_SIM_FAIL_RUN");

        return fail && (g_strcmp0(fail, "*") == 0 || g_strcmp0(fail, program) == 0);
}

/* A host tool imitated: it prints what it was asked to do (the real ones print their
 * progress) and exits 0, or fails as the faults say. */
static gboolean sim_run(HdCtx *ctx, int root_fd, const char *const *argv, char **output,
                        int *exit_status, GError **error)
{
        g_autofree char *line = g_strjoinv(" ", (char **)argv);
        int status = sim_fault(ctx, "run", argv[0]);

        if (!status && sim_run_should_fail(argv[0]))
                status = 1;
        if (exit_status)
                *exit_status = status;
        if (status) {
                const char *why = "simulated failure (run fault or HOSTDEV_SIM_FAIL_RUN)";
                if (output)
                        *output = g_strdup_printf("%s: %s\n", argv[0], why);
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "%s failed (exit %d): %s: %s",
                            argv[0], status, argv[0], why);
                return FALSE;
        }
        if (output)
                *output = g_strdup_printf("sim: ran %s\ndone\n", line);
        return TRUE;
}

static gboolean sim_install_file(HdCtx *ctx, int root_fd, const char *path, const char *contents,
                                 int mode, GError **error)
{
        g_autofree char *dir = g_path_get_dirname(path);
        int err;

        if ((err = sim_fault(ctx, "write", path)))
                return errno_error(error, err, path, "(injected)");
        if (!hd_mkdir_p_at(root_fd, dir, 0755, error) ||
            !hd_write_file_atomic_mode_at(root_fd, path, contents, -1, mode, error))
                return FALSE;
        return TRUE;
}

static gboolean sim_remove_file(HdCtx *ctx, int root_fd, const char *path, GError **error)
{
        if (!hd_unlink_at(root_fd, path, 0) && errno != ENOENT)
                return errno_error(error, errno, path, NULL);
        return TRUE;
}

/* ---------------------------------------------------------------- vfio imitation */

static guint64 parse_u64(const char *s)
{
        guint64 v = 0;

        (void)hd_parse_hex(s, G_MAXUINT64, &v);
        return v;
}

/* BARs and ROM from the device's resource file ("start end flags" per line, as the kernel
 * prints them); a device without one, or whose file has no sized BAR, gets one 16 MiB memory
 * BAR, which is what most simple devices have. Config space is 4 KiB for PCIe (a config file
 * longer than 256 bytes). */
static void sim_regions(int root_fd, const HdDevice *dev, const char *dir, HdVfioInfo *info)
{
        g_autofree char *res_path = g_strdup_printf("%s/resource", dir);
        g_autofree char *res = hd_read_file_at(root_fd, res_path, 1 << 16, NULL);
        g_autofree char *cfg_path = g_strdup_printf("%s/config", dir);
        struct stat st;
        HdVfioRegion cfg = { .index = HD_VFIO_REGION_CONFIG, .readable = TRUE, .writable = TRUE };

        if (res) {
                g_auto(GStrv) lines = g_strsplit(res, "\n", -1);
                for (guint i = 0; lines[i] && i <= 6; i++) {
                        g_auto(GStrv) f = g_strsplit(lines[i], " ", -1);
                        guint64 start, end, flags;
                        HdVfioRegion r = { .index = i, .readable = TRUE };

                        if (g_strv_length(f) < 3)
                                continue;
                        start = parse_u64(f[0]);
                        end = parse_u64(f[1]);
                        flags = parse_u64(f[2]);
                        if (end <= start)
                                continue;
                        r.size = end - start + 1;
                        r.writable = i < 6;
                        /* IORESOURCE_MEM: memory BARs can be mapped; I/O ports cannot. */
                        r.mmap = i < 6 && (flags & 0x200) && r.size >= 4096;
                        g_array_append_val(info->regions, r);
                }
        }
        /* No resource file, or one with no sized BAR (a tree built without addresses): a
         * device with nothing to map is not what a fixture means, so assume the usual. */
        if (info->regions->len == 0) {
                HdVfioRegion r = { .index = 0, .size = 16 << 20, .readable = TRUE,
                                   .writable = TRUE, .mmap = TRUE };
                g_array_append_val(info->regions, r);
        }
        cfg.size = hd_stat_at(root_fd, cfg_path, FALSE, &st) && st.st_size > 256 ? 4096 : 256;
        g_array_append_val(info->regions, cfg);
        if (dev->class_code >= 0 && ((guint32)dev->class_code >> 8) == 0x0300) {
                HdVfioRegion vga = { .index = HD_VFIO_REGION_VGA, .size = 0xc0000,
                                     .readable = TRUE, .writable = TRUE };
                g_array_append_val(info->regions, vga);
        }
}

/* Interrupts from config space: INTx when an interrupt pin is set, MSI vectors from the MSI
 * capability, MSI-X table size, ERR for PCIe, REQ always (vfio-pci offers it to every device). */
static void sim_irqs(int root_fd, const char *dir, HdVfioInfo *info)
{
        g_autofree char *cfg_path = g_strdup_printf("%s/config", dir);
        g_autoptr(GBytes) bytes = hd_read_bytes_at(root_fd, cfg_path, 4096, NULL);
        HdConfig cfg = { 0 };
        guint counts[5] = { 0, 0, 0, 0, 1 };
        guint off;
        guint16 ctrl;

        if (bytes) {
                cfg.data = g_bytes_get_data(bytes, &cfg.len);
                if (cfg.len > 0x3d && cfg.data[0x3d] != 0)
                        counts[HD_VFIO_IRQ_INTX] = 1;
                if ((off = hd_config_find_cap(&cfg, 0x05)) &&
                    hd_config_read16(&cfg, off + 2, &ctrl))
                        counts[HD_VFIO_IRQ_MSI] = 1u << ((ctrl >> 1) & 7);
                if ((off = hd_config_find_cap(&cfg, 0x11)) &&
                    hd_config_read16(&cfg, off + 2, &ctrl))
                        counts[HD_VFIO_IRQ_MSIX] = (ctrl & 0x7ff) + 1;
                if (hd_config_find_cap(&cfg, 0x10))
                        counts[3] = 1;
        } else {
                counts[HD_VFIO_IRQ_INTX] = counts[HD_VFIO_IRQ_MSI] = 1;
        }
        for (guint i = 0; i < G_N_ELEMENTS(counts); i++) {
                HdVfioIrq q = { .index = i, .count = counts[i] };
                g_array_append_val(info->irqs, q);
        }
}

/* What VFIO would answer, from the tree. Limits: the API version is always 0 and TYPE1 is
 * offered when the vfio_iommu_type1 module is loaded or built in; regions and interrupts are
 * what sysfs and config space say, not what the device would accept; reset support is the
 * presence of a reset method. */
static gboolean sim_vfio_inspect(HdCtx *ctx, int root_fd, int group, const char *address,
                                 HdVfioInfo *info, GError **error)
{
        g_autofree char *gdir = g_strdup_printf("sys/kernel/iommu_groups/%d/devices", group);
        g_autoptr(GPtrArray) members = hd_list_dir_at(root_fd, gdir, NULL);
        g_autoptr(GPtrArray) holders = NULL;
        g_autoptr(HdDevice) dev = NULL;
        g_autofree char *dir = device_dir(root_fd, address);
        g_autofree char *node = g_strdup_printf("dev/vfio/%d", group);
        g_autofree char *reset_method = NULL;
        g_autofree char *rm_path = NULL, *reset_path = NULL;

        if (!hd_exists_at(root_fd, "dev/vfio/vfio", FALSE)) {
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED,
                            "%s: cannot open /dev/vfio/vfio (No such file or directory): the "
                            "vfio modules are not loaded; hostdev detach loads them",
                            address);
                return FALSE;
        }
        info->api_version = 0;
        info->type1 = hd_exists_at(root_fd, "sys/module/vfio_iommu_type1", FALSE);
        if (!info->type1) {
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED,
                            "%s: the kernel offers no TYPE1 IOMMU backend (is vfio_iommu_type1 "
                            "loaded and the IOMMU on? hostdev check says)",
                            address);
                return FALSE;
        }
        if (!hd_exists_at(root_fd, node, FALSE)) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "%s: cannot open /dev/vfio/%d (No such file or directory): no member "
                            "of IOMMU group %d is on vfio-pci",
                            address, group, group);
                return FALSE;
        }
        info->group = group;
        holders = hd_usage_group_holders(ctx, group);
        if (holders->len > 0) {
                g_set_error(error, HD_ERROR, HD_ERROR_BUSY,
                            "%s: /dev/vfio/%d is busy: process %s holds IOMMU group %d", address,
                            group, (char *)holders->pdata[0], group);
                return FALSE;
        }
        info->viable = TRUE;
        for (guint i = 0; members && i < members->len; i++) {
                g_autoptr(HdDevice) m = load_device(ctx, members->pdata[i]);
                if (m && !(is_bridge_header(m) || hd_driver_is_viable(m->driver)))
                        info->viable = FALSE;
        }
        if (!info->viable) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "%s: IOMMU group %d is not viable: a member is still on a host "
                            "driver",
                            address, group);
                return FALSE;
        }
        dev = dir ? load_device(ctx, address) : NULL;
        if (!dev || !hd_driver_is_vfio(dev->driver)) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "%s: VFIO_GROUP_GET_DEVICE_FD failed: Invalid argument (the device "
                            "is not bound to vfio-pci)",
                            address);
                return FALSE;
        }
        rm_path = g_strdup_printf("%s/reset_method", dir);
        reset_path = g_strdup_printf("%s/reset", dir);
        reset_method = hd_read_attr_optional_at(root_fd, rm_path);
        info->reset = (reset_method && *reset_method) ||
                      (!reset_method && hd_exists_at(root_fd, reset_path, FALSE));
        info->num_regions = 9; /* VFIO_PCI_NUM_REGIONS */
        info->num_irqs = 5;    /* VFIO_PCI_NUM_IRQS */
        sim_regions(root_fd, dev, dir, info);
        sim_irqs(root_fd, dir, info);
        info->source = "sim";
        return TRUE;
}

/* ---------------------------------------------------------------- reboot */

#define SIM_BOOT_MODEL SIM_STATE_DIR "/boot/iommu"

/* A path of the boot model: relative, no "." or ".." component, nothing the tree's own
 * names would not use. */
static gboolean model_path_valid(const char *path)
{
        g_auto(GStrv) parts = NULL;

        if (!*path || path[0] == '/')
                return FALSE;
        for (const char *c = path; *c; c++)
                if (!g_ascii_isalnum(*c) && !strchr("._:/-+", *c))
                        return FALSE;
        parts = g_strsplit(path, "/", -1);
        for (char **p = parts; *p; p++)
                if (!**p || strcmp(*p, ".") == 0 || strcmp(*p, "..") == 0)
                        return FALSE;
        return TRUE;
}

static gboolean words_have(const GPtrArray *words, const char *key, const char *value)
{
        for (guint i = 0; i < words->len; i++) {
                const char *w = words->pdata[i];
                gsize n = strlen(key);
                if (strncmp(w, key, n) == 0 && w[n] == '=') {
                        /* intel_iommu=on,sm_on: the first of the comma list decides */
                        g_auto(GStrv) vals = g_strsplit(w + n + 1, ",", -1);
                        for (char **v = vals; *v; v++)
                                if (strcmp(*v, value) == 0)
                                        return TRUE;
                }
        }
        return FALSE;
}

static gboolean iommu_on_at_boot(const char *kind, gboolean default_on, const GPtrArray *words)
{
        if (words_have(words, "iommu", "off"))
                return FALSE;
        if (g_strcmp0(kind, "amd") == 0)
                return !words_have(words, "amd_iommu", "off");
        if (words_have(words, "intel_iommu", "off"))
                return FALSE;
        return words_have(words, "intel_iommu", "on") || default_on;
}

/* Create (@on) or remove the boot model's entries. */
static gboolean apply_boot_model(int root_fd, const char *model, const GPtrArray *words,
                                 GError **error)
{
        g_auto(GStrv) lines = g_strsplit(model, "\n", -1);
        g_autoptr(GPtrArray) dirs = g_ptr_array_new();
        const char *kind = NULL;
        gboolean default_on = FALSE, on;
        gboolean pt = words_have(words, "iommu", "pt");

        for (char **l = lines; *l; l++) {
                g_auto(GStrv) f = g_strsplit(*l, "\t", 3);
                if (!f[0] || !f[1] || f[0][0] == '#')
                        continue;
                if (strcmp(f[0], "kind") == 0)
                        kind = strcmp(f[1], "amd") == 0 ? "amd" : "intel";
                else if (strcmp(f[0], "default_on") == 0)
                        default_on = strcmp(f[1], "1") == 0;
        }
        on = iommu_on_at_boot(kind, default_on, words);
        for (char **l = lines; *l; l++) {
                g_auto(GStrv) f = g_strsplit(*l, "\t", 3);
                const char *op = f[0];

                if (!op || !f[1] || op[0] == '#' || strcmp(op, "kind") == 0 ||
                    strcmp(op, "default_on") == 0)
                        continue;
                if (!model_path_valid(f[1]))
                        return errno_error(error, EINVAL, SIM_BOOT_MODEL,
                                           "(a path that is not relative and plain)");
                if (strcmp(op, "dir") == 0) {
                        if (on && !hd_mkdir_p_at(root_fd, f[1], 0755, error))
                                return FALSE;
                        g_ptr_array_add(dirs, *l + 4);
                        continue;
                }
                if (!on) {
                        (void)hd_unlink_at(root_fd, f[1], 0);
                        continue;
                }
                if (strcmp(op, "link") == 0 && f[2] && f[2][0] != '/') {
                        g_autofree char *dir = g_path_get_dirname(f[1]);
                        if (!hd_mkdir_p_at(root_fd, dir, 0755, error))
                                return FALSE;
                        (void)hd_unlink_at(root_fd, f[1], 0);
                        if (!hd_symlink_at(f[2], root_fd, f[1]))
                                return errno_error(error, errno, f[1], "(boot model link)");
                } else if (strcmp(op, "file") == 0 || strcmp(op, "domain") == 0) {
                        g_autofree char *text = strcmp(op, "domain") == 0
                                                    ? g_strdup(pt ? "identity\n" : "DMA\n")
                                                    : g_strcompress(f[2] ? f[2] : "");
                        g_autofree char *dir = g_path_get_dirname(f[1]);
                        if (!hd_mkdir_p_at(root_fd, dir, 0755, error) ||
                            !hd_write_file_atomic_at(root_fd, f[1], text, -1, error))
                                return FALSE;
                }
        }
        /* off: the directories the model made go, deepest first, once empty */
        for (guint i = dirs->len; !on && i > 0; i--)
                (void)hd_unlink_at(root_fd, dirs->pdata[i - 1], AT_REMOVEDIR);
        return TRUE;
}

static gboolean sim_reboot(HdCtx *ctx, int root_fd, GError **error)
{
        hd_autofd int lock = sim_lock(root_fd, error);
        g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *old_line = NULL;
        g_autoptr(GPtrArray) old_words = NULL;
        g_autoptr(HdBootloader) bl = NULL;
        g_autofree char *model = NULL;
        g_autofree char *boot_id = NULL;
        g_autofree char *uuid = g_uuid_string_random();
        int err;

        if (lock < 0)
                return FALSE;
        if ((err = sim_fault(ctx, "write", "proc/cmdline")))
                return errno_error(error, err, "proc/cmdline", "(injected)");
        old_line = hd_read_attr_optional_at(root_fd, "proc/cmdline");
        old_words = old_line ? hd_cmdline_split(old_line, NULL) : NULL;
        bl = hd_bootloader_detect(ctx, NULL);
        if (bl && hd_bootloader_get_kind(bl) != HD_BOOTLOADER_UNKNOWN) {
                const GPtrArray *configured = hd_bootloader_get_cmdline(bl);
                g_autofree char *line = NULL;
                g_autofree char *text = NULL;

                for (guint i = 0; old_words && i < old_words->len; i++)
                        if (hd_kernel_arg_supplied_by_boot(old_words->pdata[i]))
                                g_ptr_array_add(words, g_strdup(old_words->pdata[i]));
                for (guint i = 0; i < configured->len; i++)
                        g_ptr_array_add(words, g_strdup(configured->pdata[i]));
                g_ptr_array_add(words, NULL);
                line = g_strjoinv(" ", (char **)words->pdata);
                g_ptr_array_remove_index(words, words->len - 1);
                text = g_strconcat(line, "\n", NULL);
                if (!hd_write_file_atomic_at(root_fd, "proc/cmdline", text, -1, error))
                        return FALSE;
        } else {
                for (guint i = 0; old_words && i < old_words->len; i++)
                        g_ptr_array_add(words, g_strdup(old_words->pdata[i]));
        }
        boot_id = g_strconcat(uuid, "\n", NULL);
        if (!hd_mkdir_p_at(root_fd, "proc/sys/kernel/random", 0755, error) ||
            !hd_write_file_atomic_at(root_fd, "proc/sys/kernel/random/boot_id", boot_id, -1, error))
                return FALSE;
        model = hd_read_file_at(root_fd, SIM_BOOT_MODEL, 4 << 20, NULL);
        return !model || apply_boot_model(root_fd, model, words, error);
}

const HdBackendOps hd_backend_sim = {
        .name = "sim",
        .write = sim_write,
        .load_module = sim_load_module,
        .run = sim_run,
        .install_file = sim_install_file,
        .remove_file = sim_remove_file,
        .vfio_inspect = sim_vfio_inspect,
        .reboot = sim_reboot,
};
