/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "pciconfig.h"

/* A capability list cannot hold more entries than fit in the space it lives in. */
#define MAX_CAPS 48
#define MAX_EXT_CAPS 480

gboolean hd_config_read16(const HdConfig *cfg, guint off, guint16 *out)
{
        if ((gsize)off + 2 > cfg->len)
                return FALSE;
        *out = (guint16)(cfg->data[off] | (cfg->data[off + 1] << 8));
        return TRUE;
}

gboolean hd_config_read32(const HdConfig *cfg, guint off, guint32 *out)
{
        if ((gsize)off + 4 > cfg->len)
                return FALSE;
        *out = (guint32)cfg->data[off] | ((guint32)cfg->data[off + 1] << 8) |
               ((guint32)cfg->data[off + 2] << 16) | ((guint32)cfg->data[off + 3] << 24);
        return TRUE;
}

int hd_config_header_type(const HdConfig *cfg)
{
        if (cfg->len <= HD_PCI_HEADER_TYPE)
                return -1;
        return cfg->data[HD_PCI_HEADER_TYPE] & 0x7f;
}

gboolean hd_config_is_multifunction(const HdConfig *cfg)
{
        return cfg->len > HD_PCI_HEADER_TYPE && (cfg->data[HD_PCI_HEADER_TYPE] & 0x80);
}

guint hd_config_find_cap(const HdConfig *cfg, guint8 id)
{
        guint16 status;
        guint pos;

        if (!hd_config_read16(cfg, HD_PCI_STATUS, &status) || !(status & HD_PCI_STATUS_CAP_LIST))
                return 0;
        if (cfg->len <= HD_PCI_CAPABILITY_LIST)
                return 0;
        /* The header type decides where the pointer lives for CardBus (0x14); all others 0x34. */
        pos = cfg->data[hd_config_header_type(cfg) == 2 ? 0x14 : HD_PCI_CAPABILITY_LIST];
        for (int i = 0; i < MAX_CAPS && pos >= 0x40; i++) {
                pos &= ~3u;
                if ((gsize)pos + 2 > cfg->len)
                        return 0;
                if (cfg->data[pos] == 0xff)
                        return 0;
                if (cfg->data[pos] == id)
                        return pos;
                pos = cfg->data[pos + 1];
        }
        return 0;
}

guint hd_config_find_ext_cap(const HdConfig *cfg, guint16 id)
{
        guint pos = 0x100;

        for (int i = 0; i < MAX_EXT_CAPS && pos >= 0x100; i++) {
                guint32 header;
                if (!hd_config_read32(cfg, pos, &header) || header == 0 || header == 0xffffffff)
                        return 0;
                if ((header & 0xffff) == id)
                        return pos;
                pos = (header >> 20) & 0xffc;
        }
        return 0;
}

gboolean hd_config_get_pcie(const HdConfig *cfg, HdPcieInfo *out)
{
        guint pos = hd_config_find_cap(cfg, HD_PCI_CAP_ID_EXP);
        guint16 flags = 0, lnksta = 0;
        guint32 devcap = 0, lnkcap = 0;

        memset(out, 0, sizeof(*out));
        if (!pos || !hd_config_read16(cfg, pos + 2, &flags))
                return FALSE;
        out->type = (HdPcieType)((flags >> 4) & 0xf);
        if (hd_config_read32(cfg, pos + 4, &devcap))
                out->flr = (devcap >> 28) & 1;
        if (hd_config_read32(cfg, pos + 0x0c, &lnkcap)) {
                out->max_speed = (int)(lnkcap & 0xf);
                out->max_width = (int)((lnkcap >> 4) & 0x3f);
        }
        if (hd_config_read16(cfg, pos + 0x12, &lnksta)) {
                out->cur_speed = lnksta & 0xf;
                out->cur_width = (lnksta >> 4) & 0x3f;
        }
        return TRUE;
}

gboolean hd_config_af_flr(const HdConfig *cfg)
{
        guint pos = hd_config_find_cap(cfg, HD_PCI_CAP_ID_AF);

        /* AF capabilities: byte at +3, bit 1 = FLR, bit 0 = transactions pending. */
        return pos && (gsize)pos + 4 <= cfg->len && (cfg->data[pos + 3] & 0x02) &&
               (cfg->data[pos + 3] & 0x01);
}

gboolean hd_config_pm_reset(const HdConfig *cfg)
{
        guint pos = hd_config_find_cap(cfg, HD_PCI_CAP_ID_PM);
        guint16 pmcsr;

        if (!pos || !hd_config_read16(cfg, pos + 4, &pmcsr))
                return FALSE;
        /* PMCSR bit 3: No_Soft_Reset. When set, D3hot->D0 keeps state, so it is no reset. */
        return !(pmcsr & 0x0008);
}

gboolean hd_config_get_acs(const HdConfig *cfg, guint16 *cap, guint16 *ctrl)
{
        guint pos = hd_config_find_ext_cap(cfg, HD_PCI_EXT_CAP_ID_ACS);

        if (!pos)
                return FALSE;
        return hd_config_read16(cfg, pos + 4, cap) && hd_config_read16(cfg, pos + 6, ctrl);
}

const char *hd_pcie_type_to_string(HdPcieType type)
{
        switch (type) {
        case HD_PCIE_TYPE_ENDPOINT:
                return "endpoint";
        case HD_PCIE_TYPE_LEGACY_ENDPOINT:
                return "legacy-endpoint";
        case HD_PCIE_TYPE_ROOT_PORT:
                return "root-port";
        case HD_PCIE_TYPE_UPSTREAM_PORT:
                return "upstream-port";
        case HD_PCIE_TYPE_DOWNSTREAM_PORT:
                return "downstream-port";
        case HD_PCIE_TYPE_PCIE_TO_PCI_BRIDGE:
                return "pcie-to-pci-bridge";
        case HD_PCIE_TYPE_PCI_TO_PCIE_BRIDGE:
                return "pci-to-pcie-bridge";
        case HD_PCIE_TYPE_RC_INTEGRATED_ENDPOINT:
                return "rc-integrated-endpoint";
        case HD_PCIE_TYPE_RC_EVENT_COLLECTOR:
                return "rc-event-collector";
        }
        return "unknown";
}

static const char *const speed_names[] = {
        NULL, "2.5 GT/s", "5.0 GT/s", "8.0 GT/s", "16.0 GT/s", "32.0 GT/s", "64.0 GT/s",
};

const char *hd_pcie_speed_to_string(int code)
{
        if (code <= 0 || code >= (int)G_N_ELEMENTS(speed_names))
                return NULL;
        return speed_names[code];
}

int hd_pcie_speed_from_sysfs(const char *text)
{
        if (!text)
                return 0;
        for (int i = 1; i < (int)G_N_ELEMENTS(speed_names); i++) {
                gsize n = strlen(speed_names[i]);
                if (strncmp(text, speed_names[i], n) == 0)
                        return i;
        }
        /* Older kernels print "2.5 GT/s" vs "2.5GT/s"; compare numerically as a fallback. */
        if (g_str_has_prefix(text, "2.5"))
                return 1;
        if (g_str_has_prefix(text, "5"))
                return 2;
        if (g_str_has_prefix(text, "8"))
                return 3;
        if (g_str_has_prefix(text, "16"))
                return 4;
        if (g_str_has_prefix(text, "32"))
                return 5;
        if (g_str_has_prefix(text, "64"))
                return 6;
        return 0;
}

GArray *hd_config_capabilities(const HdConfig *cfg)
{
        GArray *caps = g_array_new(FALSE, FALSE, sizeof(HdCapability));
        guint16 status;
        guint pos;

        if (hd_config_read16(cfg, HD_PCI_STATUS, &status) && (status & HD_PCI_STATUS_CAP_LIST) &&
            cfg->len > HD_PCI_CAPABILITY_LIST) {
                pos = cfg->data[hd_config_header_type(cfg) == 2 ? 0x14 : HD_PCI_CAPABILITY_LIST];
                for (int i = 0; i < MAX_CAPS && pos >= 0x40; i++) {
                        HdCapability c = { 0 };
                        pos &= ~3u;
                        if ((gsize)pos + 2 > cfg->len || cfg->data[pos] == 0xff)
                                break;
                        c.offset = (guint16)pos;
                        c.id = cfg->data[pos];
                        g_array_append_val(caps, c);
                        pos = cfg->data[pos + 1];
                }
        }
        pos = 0x100;
        for (int i = 0; i < MAX_EXT_CAPS && pos >= 0x100; i++) {
                HdCapability c = { 0 };
                guint32 header;
                if (!hd_config_read32(cfg, pos, &header) || header == 0 || header == 0xffffffff)
                        break;
                c.offset = (guint16)pos;
                c.id = header & 0xffff;
                c.extended = TRUE;
                c.version = (header >> 16) & 0xf;
                g_array_append_val(caps, c);
                pos = (header >> 20) & 0xffc;
        }
        return caps;
}

const char *hd_pci_capability_name(guint16 id, gboolean extended)
{
        /* PCI Code and ID Assignment Specification: capability ids */
        static const char *const std[] = {
                [0x01] = "Power Management",
                [0x02] = "AGP",
                [0x03] = "Vital Product Data",
                [0x04] = "Slot Identification",
                [0x05] = "MSI",
                [0x06] = "CompactPCI Hot Swap",
                [0x07] = "PCI-X",
                [0x08] = "HyperTransport",
                [0x09] = "Vendor Specific",
                [0x0a] = "Debug Port",
                [0x0b] = "CompactPCI Central Resource Control",
                [0x0c] = "PCI Hot-Plug",
                [0x0d] = "Bridge Subsystem Vendor ID",
                [0x0e] = "AGP 8x",
                [0x0f] = "Secure Device",
                [0x10] = "PCI Express",
                [0x11] = "MSI-X",
                [0x12] = "SATA Data/Index Configuration",
                [0x13] = "Advanced Features",
                [0x14] = "Enhanced Allocation",
                [0x15] = "Flattening Portal Bridge",
        };
        static const char *const ext[] = {
                [0x01] = "Advanced Error Reporting",
                [0x02] = "Virtual Channel",
                [0x03] = "Device Serial Number",
                [0x04] = "Power Budgeting",
                [0x05] = "Root Complex Link Declaration",
                [0x06] = "Root Complex Internal Link Control",
                [0x07] = "Root Complex Event Collector Endpoint Association",
                [0x08] = "Multi-Function Virtual Channel",
                [0x09] = "Virtual Channel (MFVC)",
                [0x0a] = "RCRB Header",
                [0x0b] = "Vendor-Specific Extended",
                [0x0c] = "Configuration Access Correlation",
                [0x0d] = "Access Control Services",
                [0x0e] = "Alternative Routing-ID Interpretation",
                [0x0f] = "Address Translation Services",
                [0x10] = "Single Root I/O Virtualization",
                [0x11] = "Multi-Root I/O Virtualization",
                [0x12] = "Multicast",
                [0x13] = "Page Request Interface",
                [0x15] = "Resizable BAR",
                [0x16] = "Dynamic Power Allocation",
                [0x17] = "TPH Requester",
                [0x18] = "Latency Tolerance Reporting",
                [0x19] = "Secondary PCI Express",
                [0x1a] = "Protocol Multiplexing",
                [0x1b] = "Process Address Space ID",
                [0x1c] = "LN Requester",
                [0x1d] = "Downstream Port Containment",
                [0x1e] = "L1 PM Substates",
                [0x1f] = "Precision Time Measurement",
                [0x20] = "PCI Express over M-PHY",
                [0x21] = "FRS Queueing",
                [0x22] = "Readiness Time Reporting",
                [0x23] = "Designated Vendor-Specific",
                [0x24] = "VF Resizable BAR",
                [0x25] = "Data Link Feature",
                [0x26] = "Physical Layer 16.0 GT/s",
                [0x27] = "Lane Margining at the Receiver",
                [0x28] = "Hierarchy ID",
                [0x29] = "Native PCIe Enclosure Management",
                [0x2a] = "Physical Layer 32.0 GT/s",
                [0x2b] = "Alternate Protocol",
                [0x2c] = "System Firmware Intermediary",
                [0x2d] = "Shadow Functions",
                [0x2e] = "Data Object Exchange",
                [0x2f] = "Device 3",
                [0x30] = "Integrity and Data Encryption",
                [0x31] = "Physical Layer 64.0 GT/s",
        };

        if (extended)
                return id < G_N_ELEMENTS(ext) ? ext[id] : NULL;
        return id < G_N_ELEMENTS(std) ? std[id] : NULL;
}
