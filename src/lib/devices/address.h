/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PCI addresses: DDDD:BB:DD.F.
 *
 * This is the only way a device name from the user, a file or the network becomes part of a
 * path: text is parsed into numbers with every field in range, and paths are made from the
 * canonical form hd_address_format() writes (lowercase, the kernel's widths), never from the
 * text, so "../../etc" or an over-long string can never reach openat().
 *
 * One grammar for what people paste (hd_device_spec_parse):
 *   an address  [D:]B:S.F   D 1..8 hex digits (0 when absent), B 1..2, S 1..2 (<= 1f),
 *                           F 0..7: "0000:01:00.0", "01:00.0" and "1:0.0" are one device;
 *               pci_DDDD_BB_SS_F   libvirt's node device name (virsh nodedev-list);
 *   a slot      [D:]B:S     every function of the slot ("01:00"), for commands that take
 *                           several devices;
 *   ids         VVVV:DDDD   exactly four hex digits each: vendor:device ("10de:1b80"), which
 *                           must name exactly one device present (hd_device_spec_resolve).
 * Upper-case hex is accepted. Names in sysfs are parsed by the strict
 * hd_address_parse_sysfs_name(): the kernel's form only.
 */
#pragma once

#include <glib.h>

typedef struct {
        guint32 domain; /* 0..0xffff (the kernel allows 32 bits; sysfs names use 4 digits
                         * except on VMD domains, which use more: see HD_ADDRESS_STRLEN) */
        guint8 bus;
        guint8 slot;     /* 0..31 */
        guint8 function; /* 0..7 */
} HdAddress;

/* "0000:01:00.0" plus room for an 8-digit domain and the NUL. */
#define HD_ADDRESS_STRLEN 17

/* The longest text hd_device_spec_parse() reads. */
#define HD_DEVICE_SPEC_MAX 32

typedef enum {
        HD_DEVICE_SPEC_ADDRESS, /* one device: address */
        HD_DEVICE_SPEC_SLOT,    /* every function of address's slot (function 0 in it) */
        HD_DEVICE_SPEC_IDS,     /* the one device with vendor:device */
} HdDeviceSpecKind;

typedef struct {
        HdDeviceSpecKind kind;
        HdAddress address;
        guint16 vendor, device;
} HdDeviceSpec;

/* Any of the forms above; HD_ERROR_INVALID_ARGUMENT listing them. */
gboolean hd_device_spec_parse(const char *text, HdDeviceSpec *out, GError **error);

/* One device's address in any address form above (not a slot, not ids). */
gboolean hd_address_parse(const char *text, HdAddress *out, GError **error);

/* Parse the name of an entry in /sys/bus/pci/devices; FALSE for anything that is not a
 * device name (no error: callers skip such entries). */
gboolean hd_address_parse_sysfs_name(const char *name, HdAddress *out);

/* Canonical form into @buf (at least HD_ADDRESS_STRLEN bytes); returns @buf. */
char *hd_address_format(const HdAddress *addr, char *buf);

int hd_address_compare(const HdAddress *a, const HdAddress *b);

gboolean hd_address_equal(const HdAddress *a, const HdAddress *b);

/* Same bus and slot: functions of one physical device. */
gboolean hd_address_same_slot(const HdAddress *a, const HdAddress *b);
