/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VF network settings: what the PF's driver enforces for each virtual function of a NIC, set
 * and read over rtnetlink on the *PF's* netdev (the VF may be in a VM, without a netdev on the
 * host): the administrative MAC, the VLAN the PF tags (with QoS and the 802.1Q/802.1ad
 * protocol), spoof checking, trust, the link state and the TX rate limits. `ip link set PF vf N
 * mac|vlan|spoofchk|trust|state|min_tx_rate|max_tx_rate` does the same.
 *
 * The PF netdev is the interface below sys/bus/pci/devices/<pf>/net/. A PF with none (an NVMe
 * drive, a GPU) has no VF network settings: HD_ERROR_NOT_SUPPORTED saying so.
 *
 * Setting is one RTM_SETLINK per field (the kernel applies the fields of one request in order
 * and stops at the first refusal, which would leave some set and some not); when one is
 * refused, the fields already changed are set back to what they were and the error names the
 * refused field with the kernel's errno (EOPNOTSUPP: the driver has no such setting).
 *
 * Save and restore, as libvirt does around a VF given to a VM (virNetDevSaveNetConfig): before
 * the VF goes, hd_vf_net_save() writes its settings to var/lib/hostdev/vf-net/<pf>_vf<N>.json
 * below the root (atomically, through the backend like every file hostdev writes), then applies
 * what the VM is to have (MAC, VLAN); after it is back, hd_vf_net_restore() sets the saved
 * settings again and removes the file. A saved file is never overwritten: the first save
 * holds the host's settings, a second (the VF given again without a restore between) keeps
 * them.
 */
#pragma once

#include <glib.h>

#include "address.h"
#include "ctx.h"

typedef enum {
        HD_VF_LINK_UNKNOWN = -1,
        HD_VF_LINK_AUTO = 0,    /* follows the PF's link (IFLA_VF_LINK_STATE_AUTO) */
        HD_VF_LINK_ENABLE = 1,  /* always up */
        HD_VF_LINK_DISABLE = 2, /* always down */
} HdVfLinkState;

/* "auto", "enable", "disable"; NULL for unknown. */
const char *hd_vf_link_state_to_string(HdVfLinkState s);
gboolean hd_vf_link_state_from_string(const char *s, HdVfLinkState *out);

#define HD_VLAN_PROTO_8021Q 0x8100
#define HD_VLAN_PROTO_8021AD 0x88a8

/* What the PF reports for one VF. A tri-state is -1 when the driver does not report it (the
 * kernel's "-1: the driver did not fill it in"). */
typedef struct {
        guint index;
        gboolean has_mac;
        guint8 mac[6];
        guint vlan; /* 0: no VLAN */
        guint qos;
        guint vlan_proto; /* HD_VLAN_PROTO_*; 0 when not reported */
        int spoofchk;     /* 1, 0, -1 */
        int trust;        /* 1, 0, -1 */
        HdVfLinkState link_state;
        gboolean has_rate;
        guint min_tx_rate; /* Mbit/s, 0: none */
        guint max_tx_rate;
} HdVfNet;

typedef struct {
        char pf[HD_ADDRESS_STRLEN];
        char *netdev; /* the PF's interface */
        int ifindex;
        int num_vfs; /* IFLA_NUM_VF, -1 when not reported */
        GArray *vfs; /* HdVfNet, by index */
} HdVfNetInfo;

void hd_vf_net_info_free(HdVfNetInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdVfNetInfo, hd_vf_net_info_free)

/* The settings of one VF in @info, NULL when the PF did not report it. */
const HdVfNet *hd_vf_net_info_get(const HdVfNetInfo *info, guint index);

/* The PF's interface name (for a PF without one: NOT_SUPPORTED naming the device and what it
 * is). */
char *hd_vf_net_pf_netdev(HdCtx *ctx, const HdAddress *pf, GError **error);

/* Which PF and VF index the VF @address is: its physfn link, and the virtfnN link of the PF
 * that points back at it. INVALID_ARGUMENT when @address is not a VF (a PF is told to name a
 * VF index), NOT_FOUND when no virtfnN of its PF names it. */
gboolean hd_vf_net_resolve_vf(HdCtx *ctx, const HdAddress *address, HdAddress *pf, guint *index,
                              GError **error);

/* Read every VF's settings of the PF @pf. */
HdVfNetInfo *hd_vf_net_read(HdCtx *ctx, const HdAddress *pf, GError **error);

/* What to change for one VF; the has_ flags say which fields. */
typedef struct {
        gboolean has_mac;
        guint8 mac[6];      /* all zero: clear the MAC (only with clear_mac) */
        gboolean clear_mac; /* set 00:00:00:00:00:00: "no administrative MAC" */
        gboolean has_vlan;
        guint vlan;       /* 0-4095, 0: no VLAN */
        guint qos;        /* 0-7 */
        guint vlan_proto; /* 0 (802.1Q) or HD_VLAN_PROTO_* */
        gboolean has_spoofchk;
        gboolean spoofchk;
        gboolean has_trust;
        gboolean trust;
        gboolean has_link_state;
        HdVfLinkState link_state;
        gboolean has_rate;
        guint min_tx_rate;
        guint max_tx_rate;
} HdVfNetSettings;

/* Parse "52:54:00:12:34:56" (or with '-'). */
gboolean hd_vf_net_parse_mac(const char *s, guint8 mac[6]);
/* "52:54:00:12:34:56" into @buf of 18 bytes. */
const char *hd_vf_net_format_mac(const guint8 mac[6], char buf[18]);

/* Check @s without touching anything: a MAC that is unicast and not all zero (unless
 * clear_mac), VLAN 0-4095, QoS 0-7 and only with a VLAN, a known protocol and link state,
 * min <= max rate. INVALID_ARGUMENT naming the field. */
gboolean hd_vf_net_validate(const HdVfNetSettings *s, GError **error);

/* Change the settings @s of VF @index of PF @pf: checked (hd_vf_net_validate(), and @index
 * below the PF's sriov_numvfs), then one netlink request per field that differs from what
 * the PF reports (see the top). *@n_changed (may be NULL) gets the number of fields written
 * (in a dry run: that would be). */
gboolean hd_vf_net_set(HdCtx *ctx, const HdAddress *pf, guint index, const HdVfNetSettings *s,
                       guint *n_changed, GError **error);

/* The state file of VF @index of @pf below the root. */
char *hd_vf_net_saved_path(const HdAddress *pf, guint index);

/* Save the settings of the VF @vf (its own address) before it goes to a VM, then apply
 * @for_vm (may be NULL: only save). A saved file already there is kept (see the top). */
gboolean hd_vf_net_save(HdCtx *ctx, const HdAddress *vf, const HdVfNetSettings *for_vm,
                        GError **error);
/* Set the saved settings of @vf again and remove the file; TRUE without doing anything when
 * nothing is saved. */
gboolean hd_vf_net_restore(HdCtx *ctx, const HdAddress *vf, GError **error);

/* The parser of an RTM_GETLINK answer (the kernel's bytes, untrusted): fills @info's ifindex,
 * num_vfs and vfs. An NLMSG_ERROR answer is an error with its errno (G_IO_ERROR); malformed
 * bytes are HD_ERROR_FAILED. */
gboolean hd_vf_net_parse_reply(const guint8 *data, gsize len, HdVfNetInfo *info, GError **error);
/* The errno of an ACK answer (0: done), or -1 with @error for bytes that are not one. For a
 * refusal, *@message (may be NULL) gets the kernel's extended ACK text (NETLINK_EXT_ACK), made
 * printable, or NULL when there is none. */
int hd_vf_net_parse_ack(const guint8 *data, gsize len, char **message, GError **error);

/* <interface type='hostdev' managed='no'> (@managed: 'yes', libvirt detaches it itself) for
 * the NIC VF @vf, with an optional guest MAC and VLAN (-1: none), indented by @indent. Checked
 * first: a VF (libvirt: "Interface type hostdev is currently supported on SR-IOV Virtual
 * Functions only") of a PF that has a network interface; REFUSED saying which and what to use
 * instead. Where the VF is bound is the caller's check (hd_guest_check_devices()). */
char *hd_vf_net_interface_xml(HdCtx *ctx, const HdAddress *vf, const guint8 *mac, int vlan,
                              gboolean managed, guint indent, GError **error);
