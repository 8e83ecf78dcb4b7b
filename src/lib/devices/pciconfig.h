/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading PCI configuration space as the kernel exposes it in sysfs ("config"): the standard
 * header, the capability list and the PCIe extended capability list. Only what the library
 * needs: header type, PCIe port type and link, FLR, power-management reset, ACS, SR-IOV.
 *
 * Everything is bounds-checked against the bytes actually read: unprivileged readers get only
 * the first 64 bytes, and a config blob from a snapshot may be short or corrupt. A loop guard
 * stops capability lists that point back at themselves.
 */
#pragma once

#include <glib.h>

/* Offsets and ids from the PCI Local Bus and PCI Express Base specifications. */
#define HD_PCI_HEADER_TYPE 0x0e
#define HD_PCI_STATUS 0x06
#define HD_PCI_STATUS_CAP_LIST 0x10
#define HD_PCI_CAPABILITY_LIST 0x34

#define HD_PCI_CAP_ID_PM 0x01
#define HD_PCI_CAP_ID_EXP 0x10
#define HD_PCI_CAP_ID_AF 0x13

#define HD_PCI_EXT_CAP_ID_ACS 0x000d
#define HD_PCI_EXT_CAP_ID_SRIOV 0x0010

/* ACS capability/control bits (PCIe Base 6.0, 7.7.11). */
#define HD_PCI_ACS_SV 0x0001 /* source validation */
#define HD_PCI_ACS_TB 0x0002 /* translation blocking */
#define HD_PCI_ACS_RR 0x0004 /* P2P request redirect */
#define HD_PCI_ACS_CR 0x0008 /* P2P completion redirect */
#define HD_PCI_ACS_UF 0x0010 /* upstream forwarding */
/* What the kernel requires for isolation (drivers/pci/pci.c REQ_ACS_FLAGS). */
#define HD_PCI_ACS_REQUIRED (HD_PCI_ACS_SV | HD_PCI_ACS_RR | HD_PCI_ACS_CR | HD_PCI_ACS_UF)

/* PCIe device/port type (PCIe capability register bits 7:4). */
typedef enum {
        HD_PCIE_TYPE_ENDPOINT = 0x0,
        HD_PCIE_TYPE_LEGACY_ENDPOINT = 0x1,
        HD_PCIE_TYPE_ROOT_PORT = 0x4,
        HD_PCIE_TYPE_UPSTREAM_PORT = 0x5,
        HD_PCIE_TYPE_DOWNSTREAM_PORT = 0x6,
        HD_PCIE_TYPE_PCIE_TO_PCI_BRIDGE = 0x7,
        HD_PCIE_TYPE_PCI_TO_PCIE_BRIDGE = 0x8,
        HD_PCIE_TYPE_RC_INTEGRATED_ENDPOINT = 0x9,
        HD_PCIE_TYPE_RC_EVENT_COLLECTOR = 0xa,
} HdPcieType;

const char *hd_pcie_type_to_string(HdPcieType type);

typedef struct {
        const guint8 *data;
        gsize len;
} HdConfig;

/* Header type (bits 6:0) or -1 when the header was not readable. */
int hd_config_header_type(const HdConfig *cfg);
gboolean hd_config_is_multifunction(const HdConfig *cfg);

/* Offset of the first capability with @id, 0 when absent. */
guint hd_config_find_cap(const HdConfig *cfg, guint8 id);
/* Offset of the first extended capability with @id, 0 when absent or unreadable. */
guint hd_config_find_ext_cap(const HdConfig *cfg, guint16 id);

/* Little-endian reads; FALSE when out of bounds. */
gboolean hd_config_read16(const HdConfig *cfg, guint off, guint16 *out);
gboolean hd_config_read32(const HdConfig *cfg, guint off, guint32 *out);

/* PCIe capability facts; FALSE when the device has no PCIe capability in the bytes read. */
typedef struct {
        HdPcieType type;
        gboolean flr;          /* Device Capabilities: Function Level Reset */
        int max_speed;         /* Link Capabilities: speed code 1..6, 0 unknown */
        int max_width;         /* lanes, 0 unknown */
        int cur_speed;         /* Link Status */
        int cur_width;
} HdPcieInfo;
gboolean hd_config_get_pcie(const HdConfig *cfg, HdPcieInfo *out);

/* "2.5 GT/s" etc. for a speed code, NULL for 0 or unknown codes. */
const char *hd_pcie_speed_to_string(int code);
/* Inverse, from the kernel's sysfs text ("8.0 GT/s PCIe"); 0 when unknown. */
int hd_pcie_speed_from_sysfs(const char *text);

/* Advanced Features capability advertises FLR (conventional PCI devices). */
gboolean hd_config_af_flr(const HdConfig *cfg);
/* Power management capability present and No_Soft_Reset clear: D3hot->D0 resets. */
gboolean hd_config_pm_reset(const HdConfig *cfg);

/* One entry of the capability lists, as lspci -v lists them. */
typedef struct {
        guint16 offset;
        guint16 id;
        gboolean extended; /* the PCIe extended list (from 0x100) */
        guint8 version;    /* extended capabilities: the version field; 0 otherwise */
} HdCapability;

/* Every capability of both lists in list order (standard first), within the bytes read and
 * the loop guards; empty when there are none. */
GArray *hd_config_capabilities(const HdConfig *cfg);
/* "Power Management", "Access Control Services", ...; NULL for an id the specifications do
 * not name (shown as "id 0x..") */
const char *hd_pci_capability_name(guint16 id, gboolean extended);

/* ACS capability and control registers; FALSE without the capability. */
gboolean hd_config_get_acs(const HdConfig *cfg, guint16 *cap, guint16 *ctrl);
