/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <pci/pci.h>
#include <string.h>

#include "names.h"

struct HdNames {
        struct pci_access *pacc; /* NULL until the first lookup */
        gboolean failed;         /* libpci could not be set up: answer NULL quietly */
        GHashTable *cache;       /* key (kind << 32 | id) -> name, or "" for unknown */
};

enum { KIND_VENDOR = 1, KIND_PRODUCT, KIND_CLASS, KIND_SUBCLASS };

/* libpci's default warning handler prints to stderr; the library never prints. */
static void PCI_PRINTF(1, 2) quiet(char *msg, ...)
{
}

HdNames *hd_names_new(void)
{
        HdNames *names = g_new0(HdNames, 1);

        names->cache = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
        return names;
}

void hd_names_free(HdNames *names)
{
        if (!names)
                return;
        if (names->pacc)
                pci_cleanup(names->pacc);
        g_hash_table_unref(names->cache);
        g_free(names);
}

static struct pci_access *get_pacc(HdNames *names)
{
        if (!names->pacc && !names->failed) {
                names->pacc = pci_alloc();
                if (!names->pacc) {
                        names->failed = TRUE;
                        return NULL;
                }
                names->pacc->warning = quiet;
                names->pacc->debug = quiet;
        }
        return names->pacc;
}

static const char *cached(HdNames *names, gint64 key, const char *value)
{
        gint64 *k = g_new(gint64, 1);
        char *v = g_strdup(value ? value : "");

        *k = key;
        g_hash_table_replace(names->cache, k, v);
        return *v ? v : NULL;
}

static const char *lookup(HdNames *names, int kind, guint32 id)
{
        gint64 key = ((gint64)kind << 32) | id;
        const char *hit = g_hash_table_lookup(names->cache, &key);
        struct pci_access *pacc;
        char buf[256];
        const char *r = NULL;

        if (hit)
                return *hit ? hit : NULL;
        pacc = get_pacc(names);
        if (pacc) {
                /* PCI_LOOKUP_NO_NUMBERS: NULL instead of "Device 1234" for unknown ids. */
                int flags = PCI_LOOKUP_NO_NUMBERS;
                switch (kind) {
                case KIND_VENDOR:
                        r = pci_lookup_name(pacc, buf, sizeof(buf), flags | PCI_LOOKUP_VENDOR,
                                            id);
                        break;
                case KIND_PRODUCT:
                        r = pci_lookup_name(pacc, buf, sizeof(buf), flags | PCI_LOOKUP_DEVICE,
                                            id >> 16, id & 0xffff);
                        break;
                case KIND_CLASS:
                        r = pci_lookup_name(pacc, buf, sizeof(buf), flags | PCI_LOOKUP_CLASS,
                                            id);
                        break;
                default:
                        break;
                }
        }
        return cached(names, key, r);
}

const char *hd_names_vendor(HdNames *names, guint16 vendor)
{
        return lookup(names, KIND_VENDOR, vendor);
}

const char *hd_names_product(HdNames *names, guint16 vendor, guint16 device)
{
        return lookup(names, KIND_PRODUCT, ((guint32)vendor << 16) | device);
}

const char *hd_names_class(HdNames *names, guint32 class_code)
{
        const char *name = lookup(names, KIND_CLASS, (class_code >> 8) & 0xffff);

        /* libpci falls back to the base class by itself for unknown subclasses, but with
         * PCI_LOOKUP_NO_NUMBERS it may return NULL: try the base class explicitly. */
        if (!name)
                name = lookup(names, KIND_CLASS, (class_code >> 16) & 0xff);
        return name;
}
