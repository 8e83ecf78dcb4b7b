/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "group.h"

static const char *const verdict_names[] = {
        [HD_VERDICT_READY] = "ready",
        [HD_VERDICT_READY_WITH_BRIDGE] = "ready-with-bridge",
        [HD_VERDICT_NEEDS_GROUP] = "needs-group",
        [HD_VERDICT_BOOT_GPU] = "boot-gpu",
        [HD_VERDICT_NO_ENDPOINT] = "no-endpoint",
        [HD_VERDICT_PARTLY_DETACHED] = "partly-detached",
        [HD_VERDICT_IN_USE] = "in-use",
        [HD_VERDICT_HOST_NEEDS_IT] = "host-needs-it",
        [HD_VERDICT_INTERRUPTED] = "interrupted",
};

const char *hd_group_verdict_to_string(HdGroupVerdict verdict)
{
        return (guint)verdict < G_N_ELEMENTS(verdict_names) ? verdict_names[verdict] : "unknown";
}

HdGroup *hd_group_new(int number)
{
        HdGroup *group = g_new0(HdGroup, 1);

        group->number = number;
        group->members = g_ptr_array_new();
        group->host_use = g_ptr_array_new_with_free_func(g_free);
        group->state = -1;
        group->holders = g_ptr_array_new_with_free_func((GDestroyNotify)hd_holder_free);
        return group;
}

void hd_group_free(HdGroup *group)
{
        if (!group)
                return;
        g_ptr_array_unref(group->members);
        g_ptr_array_unref(group->host_use);
        g_ptr_array_unref(group->holders);
        g_free(group->interrupted);
        g_free(group->verdict_text);
        g_free(group->shared_reason);
        g_free(group);
}

void hd_holder_free(HdHolder *holder)
{
        if (!holder)
                return;
        g_free(holder->process);
        g_free(holder->vm);
        g_free(holder);
}

char *hd_holder_describe(const HdHolder *h)
{
        if (h->vm)
                return g_strdup_printf("VM %s (process %d, %s)", h->vm, h->pid,
                                       h->process ? h->process : "unknown");
        return g_strdup_printf("process %d (%s)", h->pid, h->process ? h->process : "unknown");
}

static gboolean is_endpoint(const HdDevice *dev)
{
        return !hd_device_is_bridge(dev) && !hd_device_is_host_bridge(dev);
}

gboolean hd_group_member_is_viable(const HdDevice *dev)
{
        /* Bridges are fine whatever drives them (pcieport manages no DMA of its own). */
        return hd_device_is_bridge(dev) || hd_driver_is_viable(dev->driver);
}

GPtrArray *hd_group_blockers(const HdGroup *group, const HdDevice *except)
{
        GPtrArray *out = g_ptr_array_new();

        for (guint i = 0; i < group->members->len; i++) {
                HdDevice *dev = group->members->pdata[i];
                if (dev == except || !is_endpoint(dev) || hd_driver_is_viable(dev->driver))
                        continue;
                g_ptr_array_add(out, dev);
        }
        return out;
}

/* "0000:01:00.1 (Audio device, snd_hda_intel)" */
static void append_device(GString *s, const HdDevice *dev)
{
        g_autofree char *what = hd_device_describe(dev);

        g_string_append_printf(s, "%s (%s)", dev->name, what);
}

static void append_list(GString *s, GPtrArray *devs)
{
        for (guint i = 0; i < devs->len; i++) {
                if (i > 0)
                        g_string_append(s, i + 1 == devs->len ? " and " : ", ");
                append_device(s, devs->pdata[i]);
        }
}

static gboolean acs_isolates(const HdDevice *dev)
{
        guint16 need = HD_PCI_ACS_REQUIRED & dev->acs_cap;

        /* The kernel asks for each required feature the port implements to be enabled;
         * a feature the hardware lacks is not held against it (drivers/pci/pci.c). */
        return dev->has_acs && need && (dev->acs_ctrl & need) == need;
}

/* Load a device with what the ACS reasoning needs; NULL when it vanished. */
static HdDevice *load_for_acs(HdCtx *ctx, const char *name)
{
        HdAddress a;

        if (!hd_address_parse_sysfs_name(name, &a))
                return NULL;
        return hd_device_load(ctx, &a, HD_FIELD_IDS | HD_FIELD_CONFIG | HD_FIELD_TOPOLOGY |
                                               HD_FIELD_NAMES, NULL);
}

static const char *port_kind(const HdDevice *dev)
{
        if (!dev->is_pcie)
                return "PCI bridge";
        switch (dev->pcie_type) {
        case HD_PCIE_TYPE_ROOT_PORT:
                return "root port";
        case HD_PCIE_TYPE_DOWNSTREAM_PORT:
                return "switch downstream port";
        case HD_PCIE_TYPE_UPSTREAM_PORT:
                return "switch upstream port";
        case HD_PCIE_TYPE_PCIE_TO_PCI_BRIDGE:
                return "PCIe-to-PCI bridge";
        default:
                return "bridge";
        }
}

/* Why do several endpoints share this group? Walk up from the first endpoint the way the
 * kernel's pci_device_group() does and name the first place isolation is lost. */
static char *explain_sharing(const HdGroup *group, HdCtx *ctx)
{
        g_autoptr(GPtrArray) endpoints = g_ptr_array_new();
        g_autoptr(GString) why = g_string_new(NULL);
        g_autoptr(HdDevice) ep = NULL;
        gboolean one_slot = TRUE;
        const HdDevice *first;

        for (guint i = 0; i < group->members->len; i++)
                if (is_endpoint(group->members->pdata[i]))
                        g_ptr_array_add(endpoints, group->members->pdata[i]);
        if (endpoints->len < 2)
                return NULL;
        first = endpoints->pdata[0];
        for (guint i = 1; i < endpoints->len; i++)
                if (!hd_address_same_slot(&first->address,
                                          &((HdDevice *)endpoints->pdata[i])->address))
                        one_slot = FALSE;

        /* The first endpoint with its config space and the bridges above it. */
        ep = load_for_acs(ctx, first->name);
        if (one_slot && ep && !acs_isolates(ep))
                g_string_append_printf(why,
                                       "%s is a multifunction device without ACS, so its "
                                       "functions are grouped together",
                                       first->name);

        /* The bridges above the first endpoint, nearest first. */
        for (guint i = 0; ep && i < ep->upstream->len; i++) {
                g_autoptr(HdDevice) br = load_for_acs(ctx, ep->upstream->pdata[i]);
                const char *problem = NULL;

                if (!br)
                        break;
                if (!br->is_pcie && br->config_readable)
                        problem = "is a conventional PCI bridge: devices behind it "
                                  "cannot be told apart by the IOMMU";
                else if (br->is_pcie && br->pcie_type == HD_PCIE_TYPE_PCIE_TO_PCI_BRIDGE)
                        problem = "leads to conventional PCI, where the IOMMU cannot "
                                  "tell the devices behind it apart";
                else if (br->is_pcie && (br->pcie_type == HD_PCIE_TYPE_ROOT_PORT ||
                                         br->pcie_type == HD_PCIE_TYPE_DOWNSTREAM_PORT) &&
                         !acs_isolates(br))
                        problem = "lacks ACS, so everything below it shares one group";
                if (problem) {
                        if (why->len)
                                g_string_append(why, "; ");
                        g_string_append_printf(why, "upstream %s %s %s", port_kind(br), br->name,
                                               problem);
                        break;
                }
        }
        if (ep && ep->upstream->len == 0 && !one_slot) {
                if (why->len)
                        g_string_append(why, "; ");
                g_string_append(why, "devices on the root bus without ACS between them");
        }
        if (why->len == 0)
                g_string_append(why, "the platform grouped them (no missing ACS found: a "
                                     "firmware or kernel quirk)");
        return g_string_free(g_steal_pointer(&why), FALSE);
}

void hd_group_evaluate(HdGroup *group, HdCtx *ctx)
{
        g_autoptr(GString) text = g_string_new(NULL);
        g_autoptr(GPtrArray) bridges = g_ptr_array_new();
        const HdDevice *boot_gpu = NULL;
        const HdDevice *first_blocked = NULL;

        group->viable = TRUE;
        group->n_endpoints = 0;
        for (guint i = 0; i < group->members->len; i++) {
                const HdDevice *dev = group->members->pdata[i];

                if (!hd_group_member_is_viable(dev))
                        group->viable = FALSE;
                if (hd_device_is_bridge(dev)) {
                        g_ptr_array_add(bridges, (gpointer)dev);
                        continue;
                }
                if (!is_endpoint(dev))
                        continue;
                group->n_endpoints++;
                if (hd_device_is_boot_vga(dev) && !boot_gpu)
                        boot_gpu = dev;
                if (!hd_driver_is_viable(dev->driver) && !first_blocked)
                        first_blocked = dev;
        }

        g_clear_pointer(&group->shared_reason, g_free);
        if (group->n_endpoints > 1 && ctx)
                group->shared_reason = explain_sharing(group, ctx);

        if (group->n_endpoints == 0) {
                group->verdict = HD_VERDICT_NO_ENDPOINT;
                g_string_append(text, "only bridges: nothing to assign");
        } else if (boot_gpu) {
                group->verdict = HD_VERDICT_BOOT_GPU;
                g_string_append(text, "holds the boot GPU ");
                append_device(text, boot_gpu);
                g_string_append(text, "; the host's console would go with it");
        } else {
                g_autoptr(GPtrArray) others = hd_group_blockers(group, first_blocked);
                if (first_blocked && others->len > 0) {
                        group->verdict = HD_VERDICT_NEEDS_GROUP;
                        g_string_append(text, "needs ");
                        append_list(text, others);
                        g_string_append_printf(text, " detached as well as %s",
                                               first_blocked->name);
                } else if (bridges->len > 0) {
                        group->verdict = HD_VERDICT_READY_WITH_BRIDGE;
                        g_string_append(text, "ready; shares a PCIe bridge (fine: ");
                        for (guint i = 0; i < bridges->len; i++)
                                g_string_append_printf(text, "%s%s", i ? ", " : "",
                                                       ((HdDevice *)bridges->pdata[i])->name);
                        g_string_append(text, " stays on the host)");
                } else {
                        group->verdict = HD_VERDICT_READY;
                        g_string_append(text, "ready");
                }
        }
        g_free(group->verdict_text);
        group->verdict_text = g_string_free(g_steal_pointer(&text), FALSE);
}

void hd_group_note_host_use(HdGroup *group, GHashTable *usage_index)
{
        g_autoptr(GString) note = NULL;

        g_ptr_array_set_size(group->host_use, 0);
        for (guint i = 0; i < group->members->len; i++) {
                const HdDevice *dev = group->members->pdata[i];
                GPtrArray *uses = g_hash_table_lookup(usage_index, dev->name);

                for (guint j = 0; uses && j < uses->len; j++)
                        g_ptr_array_add(group->host_use,
                                        g_strdup_printf("%s: %s", dev->name,
                                                        (char *)uses->pdata[j]));
        }
        if (group->host_use->len == 0 || group->verdict == HD_VERDICT_NO_ENDPOINT)
                return;
        note = g_string_new(group->verdict_text);
        g_string_append(note, "; but the host uses it (");
        for (guint i = 0; i < group->host_use->len; i++)
                g_string_append_printf(note, "%s%s", i ? ", " : "",
                                       (char *)group->host_use->pdata[i]);
        g_string_append(note, "), so detach refuses it");
        g_free(group->verdict_text);
        group->verdict_text = g_string_free(g_steal_pointer(&note), FALSE);
}
