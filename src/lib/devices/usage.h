/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the host is doing with a device right now, from procfs below the root: routes and
 * addresses on its network interfaces and on every interface stacked on them (bridge, bond,
 * team, VLAN, macvlan), mounts and swap on its block devices (with their holders: dm, md),
 * processes holding its IOMMU group's /dev/vfio/N open, processes holding its GPU nodes
 * (/dev/dri/cardN, renderDN, /dev/fbN, /dev/nvidiaN) open, the framebuffer of the console.
 *
 * Stacked interfaces: the kernel links a lower interface L and an upper U both ways
 * (L/upper_U and U/lower_L; L/master for bridge, bond and team ports; L/brport/bridge for
 * bridge ports; U/bonding/slaves for bonds). Every one of them is followed, breadth first,
 * at most HD_NET_DEPTH_MAX levels and HD_NET_IFACES_MAX interfaces, each interface once (a
 * loop in the links ends). The strongest use anywhere in the stack is the interface's use;
 * the chain to it is named ("enp3s0f0 is a port of bridge vmbr0, which carries the host's
 * default route via 192.168.1.1").
 *
 * These are the facts that make a detach dangerous; bind.c turns them into refusals. They are
 * read fresh every time (a route appears, a VM starts) and never cached.
 */
#pragma once

#include <glib.h>

#include "ctx.h"
#include "device.h"

typedef enum {
        HD_NET_IDLE,          /* no route, no global address */
        HD_NET_ADDRESS,       /* a global IPv6 address or a route */
        HD_NET_DEFAULT_ROUTE, /* carries the host's default route */
} HdNetUse;

#define HD_NET_DEPTH_MAX 8
#define HD_NET_IFACES_MAX 64

/* One interface stacked above another. */
typedef struct {
        char *ifname;     /* "vmbr0" */
        const char *kind; /* static: "bridge", "bond", "team", "vlan", "macvlan", "ipvlan",
                           * "upper" (a kind the kernel does not name) */
} HdNetHop;

/* The use of one interface through everything stacked on it. */
typedef struct {
        char *ifname;   /* the interface asked about */
        HdNetUse use;   /* the strongest use in the stack */
        char *carrier;  /* the interface that has it: ifname or one above; NULL when idle */
        GPtrArray *via; /* HdNetHop*: the interfaces from ifname up to carrier, nearest
                         * first; empty when the interface itself carries the use */
        char *detail;   /* of the carrier: "carries the host's default route via
                         * 192.168.1.1", "has a route to 10.0.0.0", "has a global IPv6
                         * address", "carries the host's IPv6 default route via fe80::1" */
        char *text;     /* the sentence: "enp3s0 carries ...", "enp3s0f0 is a port of bridge
                         * vmbr0, which carries ..."; NULL when idle */
} HdNetUsage;

void hd_net_usage_free(HdNetUsage *usage);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdNetUsage, hd_net_usage_free)

/* The use of interface @ifname (a name from sys/class/net) through its stack. Never NULL. */
HdNetUsage *hd_usage_netdev_full(HdCtx *ctx, const char *ifname);

/* The strongest use of interface @ifname through its stack; *detail gets the sentence
 * without the leading interface name ("carries the host's default route via 192.168.1.1",
 * "is a port of bridge vmbr0, which carries ...") when not idle. */
HdNetUse hd_usage_netdev(HdCtx *ctx, const char *ifname, char **detail);

/* The mounts and swap areas sitting on @blockdev or anything that holds it (partitions are
 * separate names; dm/md holders are followed). Each entry is "/dev/nvme0n1p2 on /"; *is_root
 * is set when one of them is the root filesystem. NULL when unused. */
GPtrArray *hd_usage_blockdev(HdCtx *ctx, const char *blockdev, gboolean *is_root);

/* What the host does with one block device: the one decision behind hd_usage_blockdev(), the
 * refusals of bind.c's storage check and of the SCSI verdicts (scsi.h). */
typedef struct {
        GPtrArray *uses;    /* "/dev/sdb1 on /data", "/dev/sdb2 as swap", through everything
                             * stacked on it (dm, md); empty when none */
        GPtrArray *holders; /* what is stacked on it (holders/, recursively): "dm-0 (LVM
                             * vg0-data)", "dm-1 (multipath mpatha)", "dm-2 (dm-crypt luks-1)",
                             * "md0 (md RAID, raid1)"; empty when none */
        gboolean mounted;   /* a filesystem on it (or on something stacked on it) is mounted */
        gboolean swap;      /* it (or something stacked on it) is a swap area */
        gboolean root;      /* one of the mounts is the root filesystem */
} HdBlockUse;

void hd_block_use_free(HdBlockUse *use);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdBlockUse, hd_block_use_free)

/* The use of @blockdev (a name from sys/class/block: a disk or a partition; partitions are
 * not followed, ask for each). Never NULL. */
HdBlockUse *hd_usage_blockdev_full(HdCtx *ctx, const char *blockdev);

/* Processes with /dev/vfio/@group open: "1234 (qemu-system-x86)" each; empty when none. */
GPtrArray *hd_usage_group_holders(HdCtx *ctx, int group);

/* A process with some of a GPU's device nodes open. */
typedef struct {
        int pid;
        char *comm;       /* proc/PID/comm, "unknown" when unreadable */
        GPtrArray *nodes; /* char*: "/dev/dri/card0", ..., in the device's order */
} HdProcUse;

void hd_proc_use_free(HdProcUse *use);

/* The device nodes of GPU @dev (loaded with HD_FIELD_DRIVER): /dev/dri/cardN, renderDN and
 * controlDN of its drm/ directory, /dev/fbN of its graphics/ directory, and with the
 * proprietary nvidia driver /dev/nvidiaN (the minor from proc/driver/nvidia/gpus/ADDR/
 * information; /dev/nvidiactl when that is unreadable). Empty for other devices. */
GPtrArray *hd_usage_gpu_nodes(HdCtx *ctx, const HdDevice *dev);

/* The processes holding any of @nodes ("/dev/sg2", ...) open: one pass over proc/PID/fd, whose
 * links name them as the host does or, under another root, with the tree's own prefix (a process
 * on this host that opened a fixture's node). HdProcUse* by pid, the nodes each holds in the
 * order of @nodes; empty when none. */
GPtrArray *hd_usage_node_holders(HdCtx *ctx, GPtrArray *nodes);

/* The processes holding any of those nodes open (proc/PID/fd links naming them, as the host
 * or, under another root, the tree's own prefix), by pid: HdProcUse*. Empty when none. */
GPtrArray *hd_usage_gpu_clients(HdCtx *ctx, const HdDevice *dev);

/* "1234 (Xorg) has /dev/dri/card0 open, 1300 (gnome-shell) has /dev/dri/card0,
 * /dev/dri/renderD128 open" (at most 8 processes, then "and N more"). */
char *hd_usage_gpu_clients_text(GPtrArray *clients);

/* The framebuffer that shows the host's console on GPU @dev (loaded with HD_FIELD_DRIVER and
 * HD_FIELD_BOOT_VGA), from proc/fb and sys/class/graphics: the GPU driver's own (fbdev
 * emulation, graphics/fbN below the device) or, for the boot GPU only, the firmware's (efifb,
 * vesafb, simplefb, simpledrm: sysfb's platform device, drawn in the boot GPU's memory,
 * which vfio-pci cannot then reserve). */
typedef struct {
        char *fb;          /* "fb0" */
        char *name;        /* as proc/fb says: "EFI VGA", "i915drmfb" */
        char *driver;      /* "efifb", "vesafb", "simplefb", "simpledrm", "vga16fb", or the
                            * GPU's driver; NULL unknown */
        gboolean firmware; /* the firmware's framebuffer */
        gboolean console;  /* on the boot GPU: the console is drawn there */
        gboolean release_in_cmdline; /* the running command line already has the arguments of
                                      * kernel-args' release-framebuffer */
        gboolean release_configured; /* the bootloader's command line has them (kernel-args'
                                      * configured): released after a reboot */
} HdFramebuffer;

void hd_framebuffer_free(HdFramebuffer *fb);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdFramebuffer, hd_framebuffer_free)

/* NULL when no framebuffer of @dev is registered. */
HdFramebuffer *hd_usage_framebuffer(HdCtx *ctx, const HdDevice *dev);

/* The sentence for people: "the console is on fb0 (EFI VGA) of efifb, the firmware's
 * framebuffer in this GPU's memory, which vfio-pci cannot reserve while efifb holds it;
 * hostdev kernel-args --enable release-framebuffer --apply (video=efifb:off
 * initcall_blacklist=sysfb_init) releases it at the next boot", the command in @ctx's
 * vocabulary (hint.h). */
char *hd_framebuffer_describe(HdCtx *ctx, const HdFramebuffer *fb);

/* The kernel-args option that releases a firmware framebuffer and its arguments. */
#define HD_FRAMEBUFFER_RELEASE_OPTION "release-framebuffer"
#define HD_FRAMEBUFFER_RELEASE_ARGS "video=efifb:off initcall_blacklist=sysfb_init"

/* Everything above for one device (loaded with HD_FIELD_USERS, HD_FIELD_IOMMU, HD_FIELD_DRIVER
 * and HD_FIELD_BOOT_VGA), as short sentences for people: "enp3s0 carries the default route
 * via 192.168.1.1", "enp3s0f0 is a port of bridge vmbr0, which carries ...", "/dev/nvme0n1p2
 * on /", "IOMMU group 7 is held open by 1234 (qemu-system-x86)", "1234 (Xorg) has
 * /dev/dri/card0 open", "the console is on fb0 (EFI VGA) of efifb, ...". Empty when the host
 * does not use the device. */
GPtrArray *hd_usage_describe(HdCtx *ctx, const HdDevice *dev);

/* Host use of every PCI device at once, from one pass over sys/class/net, sys/class/block and
 * sys/class/drm (and one over proc/PID/fd when there are GPUs): canonical address ->
 * GPtrArray of sentences as hd_usage_describe() gives them (network, storage, GPU clients). Devices
 * the host does not use are absent. For listing many devices without a per-device walk of the class
 * directories. */
GHashTable *hd_usage_index(HdCtx *ctx);

/* The VM a QEMU process runs: the NAME of its `-name guest=NAME,...` (or `-name NAME`) in
 * /proc/@pid/cmdline below the root, which is libvirt's domain name. NULL when none. */
char *hd_usage_vm_of_pid(HdCtx *ctx, int pid);
