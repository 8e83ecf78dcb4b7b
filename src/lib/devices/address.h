/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PCI addresses: DDDD:BB:DD.F.
 *
 * This is the only way a device name from the user, a file or the network becomes part of a
 * path. hd_address_parse() accepts only the canonical shapes ("0000:01:00.0", and "01:00.0"
 * meaning domain 0) with every field in range, so "../../etc" or an over-long string can never
 * reach openat(). Formatting always gives the canonical lowercase form the kernel uses.
 */
#pragma once

#include <glib.h>

typedef struct {
        guint32 domain; /* 0..0xffff (the kernel allows 32 bits; sysfs names use 4 digits
                         * except on VMD domains, which use more: see HD_ADDRESS_STRLEN) */
        guint8 bus;
        guint8 slot; /* 0..31 */
        guint8 function; /* 0..7 */
} HdAddress;

/* "0000:01:00.0" plus room for an 8-digit domain and the NUL. */
#define HD_ADDRESS_STRLEN 17

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
