/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "device.h"
#include "fileio.h"
#include "group.h"
#include "hd-error.h"
#include "hint.h"
#include "bind.h"
#include "inventory.h"
#include "macros.h"
#include "usage.h"
#include "vfio.h"

void hd_vfio_info_init(HdVfioInfo *info)
{
        memset(info, 0, sizeof(*info));
        info->group = -1;
        info->regions = g_array_new(FALSE, TRUE, sizeof(HdVfioRegion));
        info->irqs = g_array_new(FALSE, TRUE, sizeof(HdVfioIrq));
}

void hd_vfio_info_clear(HdVfioInfo *info)
{
        if (info->regions)
                g_array_unref(info->regions);
        if (info->irqs)
                g_array_unref(info->irqs);
        info->regions = info->irqs = NULL;
}

const char *hd_vfio_region_name(guint index)
{
        static const char *const names[] = { "BAR0", "BAR1", "BAR2", "BAR3", "BAR4",
                                             "BAR5", "ROM",  "config", "VGA" };

        return index < G_N_ELEMENTS(names) ? names[index] : "other";
}

const char *hd_vfio_irq_name(guint index)
{
        static const char *const names[] = { "INTx", "MSI", "MSI-X", "ERR", "REQ" };

        return index < G_N_ELEMENTS(names) ? names[index] : "other";
}

/* ---------------------------------------------------------------- the kernel's answer */

static gboolean ioctl_error(GError **error, HdError code, const char *address, const char *what)
{
        int err = errno;

        g_set_error(error, HD_ERROR, code, "%s: %s failed: %s", address, what, g_strerror(err));
        return FALSE;
}

gboolean hd_vfio_inspect_kernel(HdCtx *ctx, int root_fd, int group, const char *address,
                                HdVfioInfo *info, GError **error)
{
        char group_path[32];
        struct vfio_group_status status = { .argsz = sizeof(status) };
        struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
        hd_autofd int container = -1;
        hd_autofd int gfd = -1;
        hd_autofd int dfd = -1;

        container = hd_open_at(root_fd, "dev/vfio/vfio", O_RDWR | O_CLOEXEC, 0);
        if (container < 0) {
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED,
                            "%s: cannot open /dev/vfio/vfio (%s): the vfio modules are not "
                            "loaded; hostdev detach loads them",
                            address, g_strerror(errno));
                return FALSE;
        }
        info->api_version = ioctl(container, VFIO_GET_API_VERSION);
        if (info->api_version != VFIO_API_VERSION) {
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED,
                            "%s: the kernel speaks VFIO API %d, hostdev knows %d", address,
                            info->api_version, VFIO_API_VERSION);
                return FALSE;
        }
        info->type1 = ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0 ||
                      ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) > 0;
        if (!info->type1) {
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED,
                            "%s: the kernel offers no TYPE1 IOMMU backend (is vfio_iommu_type1 "
                            "loaded and the IOMMU on? hostdev check says)",
                            address);
                return FALSE;
        }

        g_snprintf(group_path, sizeof(group_path), "dev/vfio/%d", group);
        gfd = hd_open_at(root_fd, group_path, O_RDWR | O_CLOEXEC, 0);
        if (gfd < 0) {
                int err = errno;
                g_autoptr(GPtrArray) holders =
                        err == EBUSY ? hd_usage_group_holders(ctx, group) : NULL;
                if (err == EBUSY && holders->len > 0) /* name it: pid, process, VM (state.h) */
                        g_set_error(error, HD_ERROR, HD_ERROR_BUSY,
                                    "%s: /dev/vfio/%d is busy: process %s holds IOMMU group %d",
                                    address, group, (char *)holders->pdata[0], group);
                else if (err == EBUSY)
                        g_set_error(error, HD_ERROR, HD_ERROR_BUSY,
                                    "%s: /dev/vfio/%d is busy: a VM or another process holds "
                                    "IOMMU group %d",
                                    address, group, group);
                else
                        g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                                    "%s: cannot open /dev/vfio/%d (%s): no member of IOMMU group "
                                    "%d is on vfio-pci",
                                    address, group, g_strerror(err), group);
                return FALSE;
        }
        info->group = group;
        if (ioctl(gfd, VFIO_GROUP_GET_STATUS, &status) < 0)
                return ioctl_error(error, HD_ERROR_FAILED, address, "VFIO_GROUP_GET_STATUS");
        info->viable = (status.flags & VFIO_GROUP_FLAGS_VIABLE) != 0;
        if (!info->viable) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "%s: IOMMU group %d is not viable: a member is still on a host "
                            "driver",
                            address, group);
                return FALSE;
        }
        if (ioctl(gfd, VFIO_GROUP_SET_CONTAINER, &container) < 0)
                return ioctl_error(error, errno == EBUSY ? HD_ERROR_BUSY : HD_ERROR_FAILED,
                                   address, "VFIO_GROUP_SET_CONTAINER");
        if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0 &&
            ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) < 0)
                return ioctl_error(error, HD_ERROR_NOT_SUPPORTED, address, "VFIO_SET_IOMMU");
        dfd = ioctl(gfd, VFIO_GROUP_GET_DEVICE_FD, address);
        if (dfd < 0)
                return ioctl_error(error, errno == EBUSY ? HD_ERROR_BUSY : HD_ERROR_FAILED,
                                   address, "VFIO_GROUP_GET_DEVICE_FD");
        if (ioctl(dfd, VFIO_DEVICE_GET_INFO, &dinfo) < 0)
                return ioctl_error(error, HD_ERROR_FAILED, address, "VFIO_DEVICE_GET_INFO");
        info->reset = (dinfo.flags & VFIO_DEVICE_FLAGS_RESET) != 0;
        info->num_regions = dinfo.num_regions;
        info->num_irqs = dinfo.num_irqs;
        for (guint i = 0; i < dinfo.num_regions; i++) {
                struct vfio_region_info r = { .argsz = sizeof(r), .index = i };
                HdVfioRegion out = { .index = i };

                /* A region that does not exist (VGA on a NIC) answers EINVAL: skip it. */
                if (ioctl(dfd, VFIO_DEVICE_GET_REGION_INFO, &r) < 0 || r.size == 0)
                        continue;
                out.size = r.size;
                out.readable = (r.flags & VFIO_REGION_INFO_FLAG_READ) != 0;
                out.writable = (r.flags & VFIO_REGION_INFO_FLAG_WRITE) != 0;
                out.mmap = (r.flags & VFIO_REGION_INFO_FLAG_MMAP) != 0;
                g_array_append_val(info->regions, out);
        }
        for (guint i = 0; i < dinfo.num_irqs; i++) {
                struct vfio_irq_info q = { .argsz = sizeof(q), .index = i };
                HdVfioIrq out = { .index = i };

                if (ioctl(dfd, VFIO_DEVICE_GET_IRQ_INFO, &q) == 0)
                        out.count = q.count;
                g_array_append_val(info->irqs, out);
        }
        info->source = "kernel";
        /* Closing the fds in reverse order releases the device, the group and the container. */
        return TRUE;
}

/* ---------------------------------------------------------------- the friendly entry point */

/* "0000:01:00.1 (Audio device, snd_hda_intel)" for the members that keep the group from
 * being viable; NULL when none. */
static char *describe_blockers(HdCtx *ctx, int group)
{
        g_autoptr(GArray) addrs = hd_iommu_group_addresses(ctx, group);
        g_autoptr(GString) s = g_string_new(NULL);

        for (guint i = 0; i < addrs->len; i++) {
                g_autoptr(HdDevice) m = hd_device_load(ctx, &g_array_index(addrs, HdAddress, i),
                                                       HD_FIELDS_LIST, NULL);
                g_autofree char *what = NULL;

                if (!m || hd_group_member_is_viable(m))
                        continue;
                what = hd_device_describe(m);
                g_string_append_printf(s, "%s%s (%s)", s->len ? ", " : "", m->name, what);
        }
        return s->len ? g_string_free(g_steal_pointer(&s), FALSE) : NULL;
}

/* What to do about a device a VM cannot open yet, from the same checks as detach (hint.h H2):
 * "run 'hostdev detach ADDR --group'" when that detach would pass, else why it would not. */
static char *detach_advice(HdCtx *ctx, const HdAddress *address)
{
        g_autoptr(GError) why = NULL;
        g_autofree char *cmd = hd_bind_suggest_detach(ctx, address, NULL, &why);

        if (cmd)
                return g_strdup_printf("run '%s'", cmd);
        return g_strdup_printf("detaching it is refused: %s",
                               why ? why->message : "the checks did not say why");
}

gboolean hd_vfio_verify(HdCtx *ctx, const HdAddress *address, HdVfioInfo *info, GError **error)
{
        g_autoptr(HdDevice) dev = hd_device_load(ctx, address, HD_FIELDS_LIST, error);
        g_autoptr(GError) local = NULL;
        g_autofree char *blockers = NULL;

        if (!dev)
                return FALSE;
        if (hd_device_is_bridge(dev) || hd_device_is_host_bridge(dev)) {
                /* detach refuses bridges whatever the force: nothing to suggest */
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "%s is a %s: bridges stay on the host and no VM is given one (the "
                            "kernel accepts them in a group given to a VM); verify the devices "
                            "behind it",
                            dev->name, hd_device_is_host_bridge(dev) ? "host bridge" : "PCI bridge");
                return FALSE;
        }
        if (dev->iommu_group < 0) {
                g_autofree char *check = hd_hint_command(ctx, HD_HINT_CMD_CHECK, NULL, FALSE, 0);
                /* as detach answers it (REFUSED, the agent's 409): the host is what it is,
                 * and the caller asked for something it cannot have */
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "%s has no IOMMU group: the kernel is not using an IOMMU, so no VM "
                            "can be given it; %s says what to change",
                            dev->name, check);
                return FALSE;
        }
        if (!hd_driver_is_vfio(dev->driver)) {
                g_autofree char *advice = detach_advice(ctx, address);
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "%s is on %s, not on vfio-pci, so no VM can open it; %s", dev->name,
                            dev->driver ? dev->driver : "no driver", advice);
                return FALSE;
        }
        if (hd_ctx_vfio_inspect(ctx, dev->iommu_group, dev->name, info, &local))
                return TRUE;
        /* Name the members in the way: the kernel only says "not viable". */
        if (local->domain == HD_ERROR && local->code == HD_ERROR_REFUSED &&
            (blockers = describe_blockers(ctx, dev->iommu_group))) {
                g_autofree char *advice = detach_advice(ctx, address);
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "%s: IOMMU group %d is not viable: %s still on a host driver; %s",
                            dev->name, dev->iommu_group, blockers, advice);
                return FALSE;
        }
        /* the backends' refusals name no command: the advice is computed here (hint.h H2) */
        if (local->domain == HD_ERROR && local->code == HD_ERROR_REFUSED) {
                g_autofree char *advice = detach_advice(ctx, address);
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED, "%s; %s", local->message, advice);
                return FALSE;
        }
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
}
