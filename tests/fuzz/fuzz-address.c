/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the address parser: the only gate between user input and a path.
 * Invariants: a parse either fails or yields an address whose canonical form parses back to
 * the same address and contains only hex digits, ':' and '.'; the device-name grammar
 * (hd_device_spec_parse: addresses, slots, vendor:device ids) agrees with hd_address_parse
 * and its slots and ids are in range.
 */
#include "config.h"

#include <string.h>

#include "address.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
        g_autofree char *text = g_strndup((const char *)data, size);
        HdAddress a, b;
        HdDeviceSpec spec;
        char buf[HD_ADDRESS_STRLEN];
        gboolean is_spec = hd_device_spec_parse(text, &spec, NULL);

        if (is_spec && spec.kind == HD_DEVICE_SPEC_SLOT) {
                /* a slot's canonical form (function 0) is an address */
                g_assert_cmpuint(spec.address.function, ==, 0);
                g_assert_cmpuint(spec.address.slot, <=, 0x1f);
                hd_address_format(&spec.address, buf);
                g_assert_true(hd_address_parse_sysfs_name(buf, &b));
        }
        if (is_spec && spec.kind == HD_DEVICE_SPEC_IDS)
                g_assert_cmpuint(strlen(text), ==, 9);
        /* an address exactly when the spec is one */
        g_assert_true(hd_address_parse(text, &a, NULL) ==
                      (is_spec && spec.kind == HD_DEVICE_SPEC_ADDRESS));

        if (!hd_address_parse(text, &a, NULL)) {
                /* the sysfs form is stricter: it must fail too */
                g_assert_false(hd_address_parse_sysfs_name(text, &a));
                return 0;
        }
        hd_address_format(&a, buf);
        for (const char *p = buf; *p; p++)
                g_assert_true(g_ascii_isxdigit(*p) || *p == ':' || *p == '.');
        g_assert_false(strstr(buf, "..") != NULL);
        g_assert_true(hd_address_parse_sysfs_name(buf, &b));
        g_assert_true(hd_address_equal(&a, &b));
        return 0;
}
