/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the USB identity parser (usb.h, hd_usb_spec_parse): what an admin types
 * to name a USB device. Invariants: a parse either fails with INVALID_ARGUMENT or yields a spec
 * whose canonical text parses back to the same spec; vendor:product are four hex digits each; a
 * serial is 1..HD_USB_SERIAL_MAX printable ASCII characters without blanks or quotes; a port
 * path is a bus 1..999 and 1..HD_USB_PORTS_MAX ports 1..31, made of digits, '-' and '.' only.
 * The input is also tried as a --serial beside a vendor:product.
 */
#include "config.h"

#include <string.h>

#include "hd-error.h"
#include "usb.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static void check(const char *text, const char *serial)
{
        g_auto(HdUsbSpec) spec = {0};
        g_auto(HdUsbSpec) again = {0};
        g_autoptr(GError) error = NULL;
        g_autofree char *canonical = NULL;

        if (!hd_usb_spec_parse(text, serial, &spec, &error)) {
                g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
                g_assert_true(g_utf8_validate(error->message, -1, NULL));
                return;
        }
        canonical = hd_usb_spec_format(&spec);
        if (spec.kind == HD_USB_SPEC_IDS) {
                g_assert_null(spec.devpath);
                g_assert_true(spec.serial == NULL || hd_usb_serial_is_typeable(spec.serial));
                g_assert_cmpuint(strlen(canonical), >=, 9);
        } else {
                guint dots = 0;

                g_assert_cmpint(spec.kind, ==, HD_USB_SPEC_PORT);
                g_assert_null(spec.serial);
                g_assert_cmpuint(spec.bus, >=, 1);
                g_assert_cmpuint(spec.bus, <=, 999);
                for (const char *p = canonical; *p; p++) {
                        g_assert_true(g_ascii_isdigit(*p) || *p == '-' || *p == '.');
                        dots += *p == '.';
                }
                g_assert_cmpuint(dots, <, HD_USB_PORTS_MAX);
                g_assert_null(strstr(canonical, ".."));
        }
        g_assert_true(hd_usb_spec_parse(canonical, NULL, &again, NULL));
        g_assert_cmpint(again.kind, ==, spec.kind);
        g_assert_cmpuint(again.vendor, ==, spec.vendor);
        g_assert_cmpuint(again.product, ==, spec.product);
        g_assert_cmpuint(again.bus, ==, spec.bus);
        g_assert_cmpstr(again.serial, ==, spec.serial);
        g_assert_cmpstr(again.devpath, ==, spec.devpath);
}

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
        g_autofree char *text = g_strndup((const char *)data, size);

        check(text, NULL);
        check("0403:6001", text);
        check("1-2", text);
        return 0;
}
