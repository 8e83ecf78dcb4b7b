/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The named kernel options (kernel-options.h): a leaf on GLib alone, so that hostdev-engine
 * validates a kernel tab request with the very names the agents accept.
 */
#include "config.h"

#include "kernel-options.h"

static const HdKernelOption options[] = {
    {"iommu",
     "turn the IOMMU on: intel_iommu=on on Intel; AMD-Vi is on by default (an "
     "amd_iommu=off or iommu=off is removed)",
     FALSE},
    {"iommu-pt", "IOMMU pass-through for host-owned devices: iommu=pt", FALSE},
    {"nested", "nested virtualization: kvm-intel.nested=1 or kvm-amd.nested=1", FALSE},
    {"unsafe-interrupts",
     "let vfio assign devices without interrupt remapping: "
     "vfio_iommu_type1.allow_unsafe_interrupts=1 (trusted guests only)",
     FALSE},
    {"pci-realloc",
     "let the kernel reassign PCI resources (large BARs, SR-IOV): "
     "pci=realloc",
     FALSE},
    {"blacklist-nouveau",
     "keep nouveau off NVIDIA GPUs: modprobe.blacklist=nouveau "
     "rd.driver.blacklist=nouveau",
     FALSE},
    {"vfio-ids", "bind these vendor:device ids to vfio-pci at boot: vfio-pci.ids=IDS", TRUE},
    {"release-framebuffer",
     "keep the firmware's framebuffer (efifb, simplefb, simpledrm) off the boot GPU, so that "
     "vfio-pci can take it: video=efifb:off initcall_blacklist=sysfb_init",
     FALSE},
};

const HdKernelOption *hd_kernel_options(gsize *n_options)
{
        *n_options = G_N_ELEMENTS(options);
        return options;
}

char *hd_kernel_option_names(void)
{
        g_autoptr(GString) s = g_string_new(NULL);

        for (gsize i = 0; i < G_N_ELEMENTS(options); i++)
                g_string_append_printf(s, "%s%s%s", i ? ", " : "", options[i].name,
                                       options[i].takes_value ? "=IDS" : "");
        return g_string_free(g_steal_pointer(&s), FALSE);
}
