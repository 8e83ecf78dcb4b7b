/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for patching a libvirt domain XML document (guest.c), which
 * `hostdev xml --domain FILE --write` does to a file the admin owns. Invariants: the reader
 * of host devices never fails on any bytes; a patch either is refused or keeps every byte of
 * the document outside the inserted text, and the patched document then lists the added
 * device among its host devices.
 */
#include "config.h"

#include <string.h>

#include "guest.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static gboolean has_host(GArray *hosts, const HdAddress *a)
{
        for (guint i = 0; hosts && i < hosts->len; i++)
                if (hd_address_equal(&g_array_index(hosts, HdAddress, i), a))
                        return TRUE;
        return FALSE;
}

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
        g_autofree char *xml = g_strndup((const char *)data, size);
        g_autoptr(GArray) before = hd_guest_domain_hostdevs(xml);
        g_autoptr(GArray) after = NULL;
        g_autofree char *patched = NULL;
        HdGuestOptions opts = {.rom_bar = HD_ROM_BAR_DEFAULT};
        HdAddress host;
        gsize len = strlen(xml), plen, prefix = 0, suffix = 0;

        g_assert_true(hd_address_parse("0000:3a:00.0", &host, NULL));
        patched = hd_guest_patch_domain_xml(xml, &host, 1, &opts, NULL);
        if (!patched)
                return 0;
        g_assert_false(has_host(before, &host));
        /* only an insertion: a common prefix and suffix cover the original */
        plen = strlen(patched);
        g_assert_cmpuint(plen, >, len);
        while (prefix < len && xml[prefix] == patched[prefix])
                prefix++;
        while (suffix < len - prefix && xml[len - 1 - suffix] == patched[plen - 1 - suffix])
                suffix++;
        g_assert_cmpuint(prefix + suffix, ==, len);
        after = hd_guest_domain_hostdevs(patched);
        g_assert_true(has_host(after, &host));
        return 0;
}
