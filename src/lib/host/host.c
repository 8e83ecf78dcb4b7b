/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "bootloader.h"
#include "fileio.h"
#include "hd-error.h"
#include "host.h"
#include "persist.h"
#include "inventory.h"
#include "journal.h"
#include "kernel-words.h"
#include "machine.h"
#include "macros.h"
#include "parse.h"
#include "state.h"

/* procfs tables are small; this bounds a corrupt or hostile snapshot. */
#define PROC_FILE_MAX (8 * 1024 * 1024)

/* The command that turns the IOMMU on, named in every hint that needs it. */
#define APPLY_IOMMU "hostdev kernel-args --enable iommu --apply"

static gboolean has_word(const char *list, const char *word)
{
        g_auto(GStrv) words = NULL;

        if (!list)
                return FALSE;
        words = g_strsplit_set(list, " \t", -1);
        return g_strv_contains((const char *const *)words, word);
}

const char *hd_check_status_to_string(HdCheckStatus status)
{
        switch (status) {
        case HD_CHECK_PASS:
                return "pass";
        case HD_CHECK_WARN:
                return "warn";
        case HD_CHECK_FAIL:
                return "fail";
        case HD_CHECK_SKIP:
                return "skip";
        }
        return "unknown";
}


/* Everything the checks look at, read once. */
typedef struct {
        HdCtx *ctx;
        int root_fd;
        HdCpuVendor vendor;
        char *release;
        char *cpu_flags;
        GPtrArray *cmdline; /* running kernel's words, never NULL */
        /* What the bootloader boots next (kernel-args' "configured"): NULL when no supported
         * bootloader was found or its config cannot be parsed. */
        GPtrArray *configured;
        char *config_path;  /* "/etc/default/grub", NULL when unknown */
        char *kconfig;      /* boot/config-REL, NULL when absent */
        gboolean fw_dmar, fw_ivrs, fw_tables_visible;
        guint n_iommu_units, n_groups;
        HdCheckStatus cpu_status, fw_status, kernel_status;
} Facts;

static void facts_clear(Facts *f)
{
        g_free(f->release);
        g_free(f->cpu_flags);
        g_ptr_array_unref(f->cmdline);
        if (f->configured)
                g_ptr_array_unref(f->configured);
        g_free(f->config_path);
        g_free(f->kconfig);
}

static guint count_dir(int dirfd, const char *path)
{
        g_autoptr(GPtrArray) names = hd_list_dir_at(dirfd, path, NULL);

        return names ? names->len : 0;
}

/* "y", "m" or NULL for CONFIG_NAME in the kernel's build config. */
static const char *kconfig_value(const Facts *f, const char *name)
{
        g_autofree char *needle = g_strdup_printf("\n%s=", name);
        const char *p;

        if (!f->kconfig)
                return NULL;
        p = strstr(f->kconfig, needle);
        if (!p && g_str_has_prefix(f->kconfig, needle + 1))
                p = f->kconfig - 1;
        if (!p)
                return NULL;
        p += strlen(needle);
        if (*p == 'y')
                return "y";
        if (*p == 'm')
                return "m";
        return NULL;
}

/* Whether the running kernel was booted with @arg (exact word, '-' and '_' alike in the
 * parameter name as the kernel treats them). */
static gboolean running_has(const Facts *f, const char *arg)
{
        for (guint i = 0; i < f->cmdline->len; i++)
                if (hd_cmdline_arg_equal(f->cmdline->pdata[i], arg))
                        return TRUE;
        return FALSE;
}

static gboolean configured_has(const Facts *f, const char *arg)
{
        for (guint i = 0; f->configured && i < f->configured->len; i++)
                if (hd_cmdline_arg_equal(f->configured->pdata[i], arg))
                        return TRUE;
        return FALSE;
}

/* Running versus configured: when the bootloader's config already boots the next kernel with
 * @add (NULL: nothing to add) and without every word of @drop, while the running kernel
 * lacks @add or has one of @drop, the fix is made and only a reboot is missing. Returns the
 * hint that says so, or NULL when the configuration does not have the fix (or is unknown). */
static char *pending_reboot(const Facts *f, const char *add, const char *const *drop)
{
        g_autoptr(GString) running = g_string_new(NULL);
        gboolean differs = FALSE;

        if (!f->configured)
                return NULL;
        if (add && !configured_has(f, add))
                return NULL;
        for (const char *const *d = drop; d && *d; d++)
                if (configured_has(f, *d))
                        return NULL;
        if (add && !running_has(f, add)) {
                differs = TRUE;
                g_string_append_printf(running, "without %s", add);
        }
        for (const char *const *d = drop; d && *d; d++) {
                if (!running_has(f, *d))
                        continue;
                differs = TRUE;
                g_string_append_printf(running, "%s%s", running->len ? " and with " : "with ", *d);
        }
        if (!differs)
                return NULL;
        if (add)
                return g_strdup_printf("%s is configured for the next boot: reboot (the running "
                                       "kernel was booted %s; %s already has the change)",
                                       add, running->str, f->config_path);
        return g_strdup_printf("the fix is configured for the next boot: reboot (the running "
                               "kernel was booted %s; %s no longer has it)",
                               running->str, f->config_path);
}

static void add_check(HdHostReport *r, const char *id, HdCheckStatus status, char *summary,
                      char *hint)
{
        HdCheck *c = g_new0(HdCheck, 1);

        c->id = id;
        c->status = status;
        c->summary = summary;
        c->hint = hint;
        g_ptr_array_add(r->checks, c);
}

static void check_free(gpointer p)
{
        HdCheck *c = p;

        g_free(c->summary);
        g_free(c->hint);
        g_free(c);
}

static const char *virt_name(HdCpuVendor v)
{
        return v == HD_CPU_VENDOR_AMD     ? "AMD-V (SVM)"
               : v == HD_CPU_VENDOR_INTEL ? "VT-x"
                                          : "VT-x/AMD-V";
}

static const char *iommu_name(HdCpuVendor v)
{
        return v == HD_CPU_VENDOR_AMD     ? "AMD-Vi (called \"IOMMU\" in most firmware setups)"
               : v == HD_CPU_VENDOR_INTEL ? "VT-d"
                                          : "the IOMMU (VT-d / AMD-Vi)";
}

static void check_cpu_virt(HdHostReport *r, Facts *f)
{
        if (!f->cpu_flags) {
                f->cpu_status = HD_CHECK_SKIP;
                add_check(r, "cpu-virt", HD_CHECK_SKIP,
                          g_strdup("CPU flags unknown (proc/cpuinfo has no flags line)"), NULL);
                return;
        }
        if (has_word(f->cpu_flags, "vmx") || has_word(f->cpu_flags, "svm")) {
                f->cpu_status = HD_CHECK_PASS;
                add_check(r, "cpu-virt", HD_CHECK_PASS,
                          g_strdup_printf("CPU virtualization extensions (%s)",
                                          has_word(f->cpu_flags, "vmx") ? "VT-x" : "AMD-V"),
                          NULL);
                return;
        }
        f->cpu_status = HD_CHECK_FAIL;
        add_check(r, "cpu-virt", HD_CHECK_FAIL,
                  g_strdup_printf("CPU virtualization extensions not available (no %s flag in "
                                  "/proc/cpuinfo)",
                                  f->vendor == HD_CPU_VENDOR_AMD     ? "svm"
                                  : f->vendor == HD_CPU_VENDOR_INTEL ? "vmx"
                                                                     : "vmx/svm"),
                  has_word(f->cpu_flags, "hypervisor")
                      ? g_strdup("this machine is itself a virtual machine: enable nested "
                                 "virtualization on its host (e.g. kvm-intel.nested=1 or "
                                 "kvm-amd.nested=1 there, and -cpu host)")
                      : g_strdup_printf("enable %s in the firmware setup (BIOS/UEFI)",
                                        virt_name(f->vendor)));
}

static void check_kvm(HdHostReport *r, Facts *f)
{
        const char *module = f->vendor == HD_CPU_VENDOR_AMD ? "kvm_amd" : "kvm_intel";

        if (hd_exists_at(f->root_fd, "dev/kvm", FALSE)) {
                add_check(r, "kvm", HD_CHECK_PASS, g_strdup("KVM available (/dev/kvm)"), NULL);
                return;
        }
        add_check(r, "kvm", HD_CHECK_FAIL, g_strdup("KVM not available (no /dev/kvm)"),
                  f->cpu_status == HD_CHECK_FAIL
                      ? g_strdup("KVM needs the CPU virtualization extensions first "
                                 "(see cpu-virt)")
                      : g_strdup_printf("load the KVM module: modprobe %s", module));
}

static void check_iommu_firmware(HdHostReport *r, Facts *f)
{
        if (f->fw_dmar || f->fw_ivrs) {
                f->fw_status = HD_CHECK_PASS;
                add_check(r, "iommu-firmware", HD_CHECK_PASS,
                          g_strdup_printf("Firmware describes an IOMMU (ACPI %s)",
                                          f->fw_dmar ? "DMAR: Intel VT-d" : "IVRS: AMD-Vi"),
                          NULL);
                return;
        }
        if (f->n_iommu_units > 0) {
                /* Device-tree or other firmware the kernel understood: it found one. */
                f->fw_status = HD_CHECK_PASS;
                add_check(r, "iommu-firmware", HD_CHECK_PASS,
                          g_strdup("Firmware describes an IOMMU (the kernel found one)"), NULL);
                return;
        }
        if (!f->fw_tables_visible) {
                f->fw_status = HD_CHECK_SKIP;
                add_check(r, "iommu-firmware", HD_CHECK_SKIP,
                          g_strdup("Firmware IOMMU tables unknown (no sys/firmware/acpi/tables)"),
                          NULL);
                return;
        }
        f->fw_status = HD_CHECK_FAIL;
        add_check(
            r, "iommu-firmware", HD_CHECK_FAIL,
            g_strdup_printf("Firmware describes no IOMMU (no ACPI %s table)",
                            f->vendor == HD_CPU_VENDOR_AMD     ? "IVRS"
                            : f->vendor == HD_CPU_VENDOR_INTEL ? "DMAR"
                                                               : "DMAR or IVRS"),
            has_word(f->cpu_flags, "hypervisor")
                ? g_strdup_printf("this machine is a virtual machine: its hypervisor "
                                  "must provide a virtual IOMMU (QEMU: -device %s)",
                                  f->vendor == HD_CPU_VENDOR_AMD ? "amd-iommu" : "intel-iommu")
                : g_strdup_printf("enable %s in the firmware setup (BIOS/UEFI)",
                                  iommu_name(f->vendor)));
}

/* Why the kernel did not turn on an IOMMU that the firmware describes, and the fix. */
static char *iommu_kernel_hint(const Facts *f)
{
        static const char *const intel_drop[] = {"intel_iommu=off", "iommu=off", NULL};
        static const char *const amd_drop[] = {"amd_iommu=off", "iommu=off", NULL};
        static const char *const other_drop[] = {"iommu=off", NULL};
        char *pending = NULL;

        /* What kernel-args --apply already wrote (configured) but the running kernel does not
         * have yet: the answer is a reboot, not the command that was already run. */
        if (f->vendor == HD_CPU_VENDOR_INTEL && !kconfig_value(f, "CONFIG_INTEL_IOMMU_DEFAULT_ON"))
                pending = pending_reboot(f, "intel_iommu=on", intel_drop);
        else if (f->vendor == HD_CPU_VENDOR_INTEL)
                pending = pending_reboot(f, NULL, intel_drop);
        else if (f->vendor == HD_CPU_VENDOR_AMD)
                pending = pending_reboot(f, NULL, amd_drop);
        else
                pending = pending_reboot(f, NULL, other_drop);
        if (pending)
                return pending;
        if (running_has(f, "iommu=off"))
                return g_strdup("the kernel was booted with iommu=off; remove it: " APPLY_IOMMU
                                ", then reboot");
        if (f->vendor == HD_CPU_VENDOR_INTEL) {
                const char *default_on = kconfig_value(f, "CONFIG_INTEL_IOMMU_DEFAULT_ON");

                if (running_has(f, "intel_iommu=off"))
                        return g_strdup("the kernel was booted with intel_iommu=off; replace it "
                                        "with intel_iommu=on: " APPLY_IOMMU ", then reboot");
                if (f->kconfig && !kconfig_value(f, "CONFIG_INTEL_IOMMU"))
                        return g_strdup("this kernel is built without CONFIG_INTEL_IOMMU; boot "
                                        "a kernel that has it (any distribution kernel)");
                if (default_on)
                        return g_strdup(
                            "this kernel enables VT-d by default "
                            "(CONFIG_INTEL_IOMMU_DEFAULT_ON=y) but did not: look "
                            "for DMAR errors in 'dmesg'; adding intel_iommu=on (" APPLY_IOMMU
                            ") rules out a config override");
                return g_strdup_printf("add the kernel argument intel_iommu=on (this kernel%s "
                                       "does not enable VT-d by default): " APPLY_IOMMU
                                       ", then reboot",
                                       f->kconfig ? "" : " probably");
        }
        if (f->vendor == HD_CPU_VENDOR_AMD) {
                if (running_has(f, "amd_iommu=off"))
                        return g_strdup("the kernel was booted with amd_iommu=off; remove it "
                                        "(AMD-Vi is on by default when the firmware has an "
                                        "IVRS table): " APPLY_IOMMU ", then reboot");
                if (f->kconfig && !kconfig_value(f, "CONFIG_AMD_IOMMU"))
                        return g_strdup("this kernel is built without CONFIG_AMD_IOMMU; boot a "
                                        "kernel that has it (any distribution kernel)");
                return g_strdup("AMD-Vi is on by default when the firmware has an IVRS table and "
                                "needs no kernel argument (amd_iommu=on is not one); look for "
                                "AMD-Vi errors in 'dmesg' (a firmware IVRS bug) and update the "
                                "firmware");
        }
        return g_strdup("enable the IOMMU driver for this platform in the kernel");
}

/* What the kernel will need once the firmware describes the IOMMU. */
static const char *iommu_kernel_next_step(const Facts *f)
{
        if (f->vendor == HD_CPU_VENDOR_AMD)
                return "AMD-Vi then needs no kernel argument (it is on by default)";
        if (f->vendor != HD_CPU_VENDOR_INTEL)
                return "then check that the kernel enables it";
        if (kconfig_value(f, "CONFIG_INTEL_IOMMU_DEFAULT_ON"))
                return "this kernel then enables VT-d by itself "
                       "(CONFIG_INTEL_IOMMU_DEFAULT_ON=y)";
        if (configured_has(f, "intel_iommu=on"))
                return "intel_iommu=on is already configured for the next boot";
        return "then add intel_iommu=on: " APPLY_IOMMU ", and reboot";
}

static void check_iommu_kernel(HdHostReport *r, Facts *f)
{
        if (f->n_iommu_units > 0 && f->n_groups > 0) {
                f->kernel_status = HD_CHECK_PASS;
                add_check(r, "iommu-kernel", HD_CHECK_PASS,
                          g_strdup_printf("IOMMU enabled by the kernel (%u IOMMU group%s)",
                                          f->n_groups, f->n_groups == 1 ? "" : "s"),
                          NULL);
                return;
        }
        f->kernel_status = HD_CHECK_FAIL;
        if (f->n_iommu_units > 0) {
                /* The units exist but translate nothing (iommu=off-like states, or an IOMMU
                 * that is only used for interrupt remapping). */
                add_check(r, "iommu-kernel", HD_CHECK_FAIL,
                          g_strdup("IOMMU present but the kernel made no IOMMU groups"),
                          iommu_kernel_hint(f));
                return;
        }
        if (f->fw_status == HD_CHECK_FAIL) {
                add_check(r, "iommu-kernel", HD_CHECK_FAIL,
                          g_strdup("IOMMU not enabled by the kernel"),
                          g_strdup_printf("the firmware describes no IOMMU: enable it there "
                                          "first (see iommu-firmware); %s",
                                          iommu_kernel_next_step(f)));
                return;
        }
        add_check(r, "iommu-kernel", HD_CHECK_FAIL, g_strdup("IOMMU not enabled by the kernel"),
                  iommu_kernel_hint(f));
}

/* The VT-d extended capability register, bit 3 (IR): the hardware can remap interrupts.
 * -1 when no Intel unit says. */
static int intel_ir_capable(const Facts *f)
{
        g_autoptr(GPtrArray) units = hd_list_dir_at(f->root_fd, "sys/class/iommu", NULL);
        int result = -1;

        for (guint i = 0; units && i < units->len; i++) {
                g_autofree char *path = g_strdup_printf("sys/class/iommu/%s/intel-iommu/ecap",
                                                        (const char *)units->pdata[i]);
                g_autofree char *ecap = hd_read_attr_optional_at(f->root_fd, path);
                guint64 v;

                if (!ecap || !hd_parse_hex(g_strstrip(ecap), G_MAXUINT64, &v))
                        continue;
                if (!(v & 0x8))
                        return 0;
                result = 1;
        }
        return result;
}

static char *unsafe_interrupts_text(const Facts *f)
{
        g_autofree char *param = hd_read_attr_optional_at(
            f->root_fd, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts");
        gboolean allowed = running_has(f, "vfio_iommu_type1.allow_unsafe_interrupts=1") ||
                           (param && (param[0] == 'Y' || param[0] == '1'));

        if (allowed)
                return g_strdup("vfio_iommu_type1.allow_unsafe_interrupts is set, so vfio assigns "
                                "devices anyway: a guest can make its device send interrupt "
                                "messages (MSI writes) the host did not route to it — only for "
                                "trusted guests");
        if (configured_has(f, "vfio_iommu_type1.allow_unsafe_interrupts=1"))
                return g_strdup("vfio refuses to assign devices without it; "
                                "vfio_iommu_type1.allow_unsafe_interrupts=1 is configured for "
                                "the next boot: reboot (it lets a guest's device forge interrupt "
                                "messages (MSI writes) to the host — only for trusted guests)");
        return g_strdup("vfio refuses to assign devices without it unless "
                        "vfio_iommu_type1.allow_unsafe_interrupts=1 is set (hostdev kernel-args "
                        "--enable unsafe-interrupts --apply); that lets a guest's device forge "
                        "interrupt messages (MSI writes) to the host — only for trusted guests");
}

static void check_interrupt_remapping(HdHostReport *r, Facts *f)
{
        g_autofree char *interrupts =
            hd_read_file_at(f->root_fd, "proc/interrupts", PROC_FILE_MAX, NULL);
        gboolean seen_chips = FALSE, seen_ir = FALSE;
        int intel_ir = intel_ir_capable(f);

        /* /proc/interrupts names each interrupt's chip; with remapping on, the IO-APIC and
         * MSI chips are "IR-IO-APIC", "IR-PCI-MSI" (Intel and AMD alike). This is what the
         * kernel actually does, unlike the hardware capability bits. */
        if (interrupts) {
                g_auto(GStrv) lines = g_strsplit(interrupts, "\n", -1);
                for (char **l = lines; *l; l++) {
                        if (strstr(*l, "IR-IO-APIC") || strstr(*l, "IR-PCI-MSI")) {
                                seen_ir = TRUE;
                                break;
                        }
                        if (strstr(*l, "IO-APIC") || strstr(*l, "PCI-MSI"))
                                seen_chips = TRUE;
                }
        }
        if (seen_ir) {
                add_check(r, "interrupt-remapping", HD_CHECK_PASS,
                          g_strdup("Interrupt remapping enabled"), NULL);
                return;
        }
        if (seen_chips) {
                g_autofree char *risk = unsafe_interrupts_text(f);
                const char *why;

                if (intel_ir == 0)
                        why = "the IOMMU hardware cannot remap interrupts (VT-d ecap IR bit "
                              "clear)";
                else if (running_has(f, "intremap=off") && f->configured &&
                         !configured_has(f, "intremap=off"))
                        why = "the kernel was booted with intremap=off, which is no longer "
                              "configured for the next boot: reboot";
                else if (running_has(f, "intremap=off"))
                        why = "the kernel was booted with intremap=off; remove it";
                else if (f->kernel_status != HD_CHECK_PASS)
                        why = "it comes with the IOMMU (see iommu-kernel)";
                else
                        why = "the kernel did not enable it (look for 'remapping' in dmesg; "
                              "some firmware opts out)";
                add_check(r, "interrupt-remapping", HD_CHECK_WARN,
                          g_strdup("Interrupt remapping is off"),
                          g_strdup_printf("%s; %s", why, risk));
                return;
        }
        /* No usable /proc/interrupts (a partial snapshot): fall back to the hardware. */
        if (intel_ir == 1) {
                add_check(r, "interrupt-remapping", HD_CHECK_PASS,
                          g_strdup("Interrupt remapping supported by the IOMMU (VT-d ecap)"), NULL);
                return;
        }
        if (f->vendor == HD_CPU_VENDOR_AMD && f->kernel_status == HD_CHECK_PASS) {
                /* Every AMD-Vi unit remaps interrupts; the kernel uses it when it uses the
                 * IOMMU. */
                add_check(r, "interrupt-remapping", HD_CHECK_PASS,
                          g_strdup("Interrupt remapping comes with AMD-Vi"), NULL);
                return;
        }
        add_check(r, "interrupt-remapping", HD_CHECK_SKIP,
                  g_strdup("Interrupt remapping unknown (no proc/interrupts, no IOMMU data)"),
                  NULL);
}

/* Whether a modules.dep or modules.builtin line names @basename ("vfio-pci") as a module
 * file, compressed or not. */
static gboolean module_list_has(const char *list, const char *basename)
{
        g_auto(GStrv) lines = NULL;

        if (!list)
                return FALSE;
        lines = g_strsplit(list, "\n", -1);
        for (char **l = lines; *l; l++) {
                const char *colon = strchr(*l, ':');
                g_autofree char *path = colon ? g_strndup(*l, colon - *l) : g_strdup(*l);
                const char *slash = strrchr(path, '/');
                const char *base = slash ? slash + 1 : path;
                gsize n = strlen(basename);

                if (strncmp(base, basename, n) == 0 && g_str_has_prefix(base + n, ".ko"))
                        return TRUE;
        }
        return FALSE;
}

static void check_vfio(HdHostReport *r, Facts *f)
{
        g_autofree char *dep = NULL;
        g_autofree char *builtin = NULL;
        gboolean loaded = hd_exists_at(f->root_fd, "sys/module/vfio_pci", FALSE);
        gboolean node = hd_exists_at(f->root_fd, "dev/vfio/vfio", FALSE);
        gboolean is_builtin, is_module;

        if (f->release) {
                g_autofree char *dep_path =
                    g_strdup_printf("lib/modules/%s/modules.dep", f->release);
                g_autofree char *builtin_path =
                    g_strdup_printf("lib/modules/%s/modules.builtin", f->release);
                dep = hd_read_file_at(f->root_fd, dep_path, PROC_FILE_MAX * 4, NULL);
                builtin = hd_read_file_at(f->root_fd, builtin_path, PROC_FILE_MAX, NULL);
        }
        is_builtin = module_list_has(builtin, "vfio-pci") ||
                     g_strcmp0(kconfig_value(f, "CONFIG_VFIO_PCI"), "y") == 0;
        is_module = module_list_has(dep, "vfio-pci");

        if (!loaded && !is_builtin && !is_module && !dep && !builtin) {
                add_check(r, "vfio", HD_CHECK_FAIL,
                          g_strdup_printf("vfio-pci not found: no module list for kernel %s",
                                          f->release ? f->release : "(unknown release)"),
                          g_strdup_printf("lib/modules/%s/modules.dep is missing, so the "
                                          "running kernel's modules are not installed; install "
                                          "them (or boot a kernel with CONFIG_VFIO_PCI=y)",
                                          f->release ? f->release : "RELEASE"));
                return;
        }
        if (!loaded && !is_builtin && !is_module) {
                add_check(r, "vfio", HD_CHECK_FAIL,
                          g_strdup_printf("vfio-pci not available in kernel %s",
                                          f->release ? f->release : "(unknown release)"),
                          g_strdup_printf("the running kernel has no vfio-pci (neither built in "
                                          "nor in lib/modules/%s); boot a kernel built with "
                                          "CONFIG_VFIO_PCI or install its modules package",
                                          f->release ? f->release : "RELEASE"));
                return;
        }
        if ((loaded || is_builtin) && !node) {
                add_check(r, "vfio", HD_CHECK_WARN,
                          g_strdup_printf("vfio-pci %s but /dev/vfio/vfio is missing",
                                          loaded ? "loaded" : "built in"),
                          g_strdup("the vfio container device is needed by QEMU: check that "
                                   "udev/devtmpfs runs and the vfio module loaded "
                                   "(modprobe vfio)"));
                return;
        }
        if (loaded || (is_builtin && node)) {
                add_check(r, "vfio", HD_CHECK_PASS,
                          g_strdup_printf("VFIO ready (vfio-pci %s, /dev/vfio/vfio)",
                                          is_builtin && !is_module ? "built in" : "loaded"),
                          NULL);
                return;
        }
        add_check(r, "vfio", HD_CHECK_PASS,
                  g_strdup("VFIO available (vfio-pci module, not loaded yet)"),
                  g_strdup("hostdev loads it when a device is detached; or now: modprobe "
                           "vfio-pci"));
}

/* A device attribute, probed on the first device that has any: the kernel either has the
 * feature for every device or for none. -1 when there are no devices to probe. */
static int probe_device_attr(const Facts *f, const char *attr)
{
        g_autoptr(GPtrArray) names = hd_list_dir_at(hd_ctx_get_pci_devices_fd(f->ctx), ".", NULL);
        int result = -1;

        for (guint i = 0; names && i < names->len; i++) {
                HdAddress a;
                g_autofree char *path = NULL;

                if (!hd_address_parse_sysfs_name(names->pdata[i], &a))
                        continue;
                path =
                    g_strdup_printf("bus/pci/devices/%s/%s", (const char *)names->pdata[i], attr);
                if (hd_exists_at(hd_ctx_get_sys_fd(f->ctx), path, FALSE))
                        return 1;
                result = 0;
        }
        return result;
}

static gboolean release_at_least(const Facts *f, guint want_major, guint want_minor,
                                 gboolean *known)
{
        guint major, minor;

        *known = hd_kernel_release_parse(f->release, &major, &minor);
        if (!*known)
                return FALSE;
        return major > want_major || (major == want_major && minor >= want_minor);
}

static void check_kernel_features(HdHostReport *r, Facts *f)
{
        gboolean known;
        int probe_override = probe_device_attr(f, "driver_override");
        int probe_reset = probe_device_attr(f, "reset_method");
        /* A probe on a real device beats the version: distribution kernels backport. */
        gboolean override =
            probe_override >= 0 ? probe_override : release_at_least(f, 3, 16, &known);
        /* reset_method is hidden on devices that have no reset method at all, so a device
         * without it proves nothing when the release says the kernel has it. */
        gboolean reset = probe_reset == 1 || release_at_least(f, 5, 15, &known);
        const char *rel = f->release ? f->release : "unknown release";

        if (!override) {
                add_check(r, "kernel-features", HD_CHECK_FAIL,
                          g_strdup_printf("Kernel %s lacks driver_override (needs 3.16 or "
                                          "newer)",
                                          rel),
                          g_strdup("hostdev binds devices to vfio-pci through driver_override; "
                                   "boot a newer kernel"));
                return;
        }
        if (!reset) {
                add_check(r, "kernel-features", HD_CHECK_WARN,
                          g_strdup_printf("Kernel %s has driver_override but no reset_method "
                                          "(5.15 or newer)",
                                          rel),
                          g_strdup("devices can be assigned, but the reset method cannot be "
                                   "chosen; hostdev reads reset capabilities from config space "
                                   "instead"));
                return;
        }
        add_check(r, "kernel-features", HD_CHECK_PASS,
                  g_strdup_printf("Kernel %s has driver_override and reset_method", rel), NULL);
}

static void check_groups(HdHostReport *r, Facts *f)
{
        g_autoptr(HdInventory) inv = NULL;
        g_autoptr(GString) shared = g_string_new(NULL);
        guint alone = 0, n_shared = 0;

        if (f->n_groups == 0) {
                add_check(r, "groups", HD_CHECK_SKIP,
                          g_strdup("No IOMMU groups (the kernel IOMMU is off)"), NULL);
                return;
        }
        inv = hd_inventory_scan(f->ctx, HD_FIELDS_LIST, NULL);
        if (!inv) {
                add_check(r, "groups", HD_CHECK_SKIP, g_strdup("PCI devices could not be read"),
                          NULL);
                return;
        }
        for (guint i = 0; i < inv->groups->len; i++) {
                HdGroup *g = inv->groups->pdata[i];

                hd_group_evaluate(g, f->ctx);
                if (g->n_endpoints == 1) {
                        alone++;
                        continue;
                }
                if (g->n_endpoints < 2)
                        continue;
                n_shared++;
                if (n_shared > 1)
                        g_string_append(shared, "; ");
                g_string_append_printf(shared, "group %d holds", g->number);
                for (guint m = 0, k = 0; m < g->members->len; m++) {
                        const HdDevice *dev = g->members->pdata[m];
                        if (hd_device_is_bridge(dev) || hd_device_is_host_bridge(dev))
                                continue;
                        g_string_append_printf(shared, "%s %s", k++ ? "," : "", dev->name);
                }
                if (g->shared_reason)
                        g_string_append_printf(shared, " (%s)", g->shared_reason);
        }
        if (n_shared > 0)
                g_string_append(shared, "; the devices of a shared group go to one VM together "
                                        "(hostdev groups)");
        add_check(r, "groups", alone == 0 && n_shared > 0 ? HD_CHECK_WARN : HD_CHECK_PASS,
                  g_strdup_printf("%u endpoint%s alone in %s IOMMU group, %u group%s with several "
                                  "endpoints",
                                  alone, alone == 1 ? "" : "s", alone == 1 ? "its" : "their",
                                  n_shared, n_shared == 1 ? "" : "s"),
                  n_shared > 0 ? g_string_free(g_steal_pointer(&shared), FALSE) : NULL);
}

/* Interrupted operations (journal.h): until recovered, the devices they name are wherever the
 * crash left them, and detach and attach of those groups recover them first. */
static void check_interrupted(HdHostReport *r, Facts *f)
{
        g_autoptr(GPtrArray) pending = hd_journal_list_pending(f->ctx);
        g_autoptr(GString) what = g_string_new(NULL);
        guint n = 0;

        for (guint i = 0; i < pending->len; i++) {
                const HdPendingOp *op = pending->pdata[i];
                if (op->action == HD_PENDING_IN_PROGRESS)
                        continue;
                n++;
                if (what->len)
                        g_string_append(what, "; ");
                if (op->action == HD_PENDING_QUARANTINE)
                        g_string_append_printf(what, "/%s is not a journal (%s)", op->file,
                                               op->why);
                else
                        g_string_append_printf(what, "a %s (/%s) was interrupted while %s",
                                               op->operation, op->file, op->state);
        }
        r->interrupted_operations = n;
        if (n == 0) {
                add_check(r, "interrupted", HD_CHECK_PASS,
                          g_strdup("No interrupted detach or attach"), NULL);
                return;
        }
        add_check(r, "interrupted", HD_CHECK_WARN, hd_state_interrupted_text(n),
                  g_strdup_printf("%s; hostdev recover --dry-run shows what recovery would "
                                  "write, hostdev recover does it",
                                  what->str));
}

/* Boot-time bindings (persist.h) whose card was replaced or removed: they will not apply. */
static void check_boot_bindings(HdHostReport *r, Facts *f)
{
        g_autoptr(GPtrArray) entries = hd_persist_list(f->ctx, NULL);
        g_autoptr(GString) why = g_string_new(NULL);
        guint n = 0;

        for (guint i = 0; entries && i < entries->len; i++) {
                const HdPersistEntry *e = entries->pdata[i];
                if (!e->not_applied)
                        continue;
                n++;
                g_string_append_printf(why, "%s%s", why->len ? "; " : "", e->not_applied);
        }
        if (n == 0) {
                add_check(r, "boot-bindings", HD_CHECK_PASS,
                          entries && entries->len
                              ? g_strdup_printf("%u boot-time binding%s, each for the card at "
                                                "its address",
                                                entries->len, entries->len == 1 ? "" : "s")
                              : g_strdup("No boot-time bindings"),
                          NULL);
                return;
        }
        add_check(r, "boot-bindings", HD_CHECK_WARN,
                  g_strdup_printf("%u boot-time binding%s will not apply: %s not at %s address "
                                  "any more",
                                  n, n == 1 ? "" : "s", n == 1 ? "its card is" : "their cards are",
                                  n == 1 ? "its" : "their"),
                  g_strdup_printf("%s (hostdev persist list)", why->str));
}

static void read_facts(HdCtx *ctx, Facts *f)
{
        g_autofree char *cpuinfo = NULL;
        g_autofree char *line = NULL;

        f->ctx = ctx;
        f->root_fd = hd_ctx_get_root_fd(ctx);
        cpuinfo = hd_read_file_at(f->root_fd, "proc/cpuinfo", PROC_FILE_MAX, NULL);
        {
                g_autofree char *vendor_id = hd_cpuinfo_field(cpuinfo, "vendor_id");
                f->vendor = hd_cpu_vendor_from_id(vendor_id);
        }
        f->cpu_flags = hd_cpuinfo_field(cpuinfo, "flags");
        f->release = hd_host_get_kernel_release(ctx);
        line = hd_read_attr_optional_at(f->root_fd, "proc/cmdline");
        f->cmdline = line ? hd_cmdline_split(line, NULL) : NULL;
        if (!f->cmdline)
                f->cmdline = g_ptr_array_new_with_free_func(g_free);
        {
                g_autoptr(HdBootloader) bl = hd_bootloader_detect(ctx, NULL);

                if (bl && hd_bootloader_get_kind(bl) != HD_BOOTLOADER_UNKNOWN) {
                        const GPtrArray *words = hd_bootloader_get_cmdline(bl);
                        const char *path = hd_bootloader_get_config_path(bl);

                        f->configured = g_ptr_array_new_with_free_func(g_free);
                        for (guint i = 0; i < words->len; i++)
                                g_ptr_array_add(f->configured, g_strdup(words->pdata[i]));
                        f->config_path = path ? g_strdup_printf("/%s", path)
                                              : g_strdup("the bootloader's configuration");
                }
        }
        if (f->release) {
                g_autofree char *path = g_strdup_printf("boot/config-%s", f->release);
                f->kconfig = hd_read_file_at(f->root_fd, path, PROC_FILE_MAX, NULL);
        }
        /* The tables are readable by root only on a live host; their presence is enough. */
        f->fw_tables_visible = hd_exists_at(f->root_fd, "sys/firmware/acpi/tables", FALSE);
        f->fw_dmar = hd_exists_at(f->root_fd, "sys/firmware/acpi/tables/DMAR", FALSE);
        f->fw_ivrs = hd_exists_at(f->root_fd, "sys/firmware/acpi/tables/IVRS", FALSE);
        f->n_iommu_units = count_dir(f->root_fd, "sys/class/iommu");
        /* groups of PCI devices only: an mdev's emulated group is no sign of an IOMMU */
        f->n_groups = hd_iommu_pci_group_count(ctx);
}

HdHostReport *hd_host_check(HdCtx *ctx, GError **error)
{
        g_autoptr(HdHostReport) r = g_new0(HdHostReport, 1);
        Facts f = {0};

        read_facts(ctx, &f);
        r->cpu_vendor = f.vendor;
        r->kernel_release = g_strdup(f.release);
        r->checks = g_ptr_array_new_with_free_func(check_free);

        check_cpu_virt(r, &f);
        check_kvm(r, &f);
        check_iommu_firmware(r, &f);
        check_iommu_kernel(r, &f);
        check_interrupt_remapping(r, &f);
        check_vfio(r, &f);
        check_kernel_features(r, &f);
        check_groups(r, &f);
        check_interrupted(r, &f);
        check_boot_bindings(r, &f);
        facts_clear(&f);

        r->passthrough_possible = TRUE;
        for (guint i = 0; i < r->checks->len; i++)
                if (((HdCheck *)r->checks->pdata[i])->status == HD_CHECK_FAIL)
                        r->passthrough_possible = FALSE;
        return g_steal_pointer(&r);
}

void hd_host_report_free(HdHostReport *report)
{
        if (!report)
                return;
        if (report->checks)
                g_ptr_array_unref(report->checks);
        g_free(report->kernel_release);
        g_free(report);
}

const HdCheck *hd_host_report_get(const HdHostReport *report, const char *id)
{
        for (guint i = 0; i < report->checks->len; i++) {
                const HdCheck *c = report->checks->pdata[i];
                if (strcmp(c->id, id) == 0)
                        return c;
        }
        return NULL;
}
