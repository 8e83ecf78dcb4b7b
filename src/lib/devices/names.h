/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Human names for ids: vendor, product and class, from the host's PCI ID database through
 * libpci (udev's hwdb when libpci was built with it, else pci.ids). Names describe the ids,
 * not the machine, so under --root they still come from the host running the tool.
 *
 * The database is opened on first use and answers are cached per id, so a scan of thousands
 * of identical VFs asks libpci once.
 */
#pragma once

#include <glib.h>

typedef struct HdNames HdNames;

HdNames *hd_names_new(void);
void hd_names_free(HdNames *names);

/* NULL when the database does not know the id. The strings belong to @names. */
const char *hd_names_vendor(HdNames *names, guint16 vendor);
const char *hd_names_product(HdNames *names, guint16 vendor, guint16 device);
/* @class_code is the 24-bit class (base, sub, prog-if); the name is the subclass name
 * ("VGA compatible controller"), falling back to the base class name. */
const char *hd_names_class(HdNames *names, guint32 class_code);
