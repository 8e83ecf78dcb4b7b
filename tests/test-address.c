/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "testlib.h"

static void test_parse_canonical(void)
{
        HdAddress a;
        char buf[HD_ADDRESS_STRLEN];

        g_assert_true(hd_address_parse("0000:01:00.0", &a, NULL));
        g_assert_cmpuint(a.domain, ==, 0);
        g_assert_cmpuint(a.bus, ==, 1);
        g_assert_cmpuint(a.slot, ==, 0);
        g_assert_cmpuint(a.function, ==, 0);
        g_assert_cmpstr(hd_address_format(&a, buf), ==, "0000:01:00.0");

        g_assert_true(hd_address_parse("ABCD:Ff:1F.7", &a, NULL));
        g_assert_cmpstr(hd_address_format(&a, buf), ==, "abcd:ff:1f.7");

        /* short form means domain 0 */
        g_assert_true(hd_address_parse("03:00.1", &a, NULL));
        g_assert_cmpstr(hd_address_format(&a, buf), ==, "0000:03:00.1");

        /* VMD domains have more than four digits */
        g_assert_true(hd_address_parse("10000:e1:00.0", &a, NULL));
        g_assert_cmpstr(hd_address_format(&a, buf), ==, "10000:e1:00.0");
}

static void test_parse_rejects(void)
{
        static const char *const bad[] = {
                "", "0000:zz:00.0", "../../etc", "0000:01:00.8", "0000:01:20.0", "0000:01:00",
                "0000:01:00.0/..", " 0000:01:00.0", "0000:01:00.0 ", "000:01:00.0",
                "0000:01:00.00", "0000:001:00.0", "0000-01:00.0", "0000:01:00:0",
                "123456789:01:00.0", "0000:01:00.0\n", "0x00:01:00.0", "1:00.0",
                "0000:01:00.0000000000000000000000000000000",
        };
        for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GError) error = NULL;
                HdAddress a;
                g_assert_false(hd_address_parse(bad[i], &a, &error));
                g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        }
        {
                HdAddress a;
                /* sysfs names always carry the domain */
                g_assert_false(hd_address_parse_sysfs_name("01:00.0", &a));
                g_assert_false(hd_address_parse(NULL, &a, NULL));
        }
}

static void test_compare(void)
{
        HdAddress a, b;

        hd_address_parse("0000:01:00.0", &a, NULL);
        hd_address_parse("0000:01:00.1", &b, NULL);
        g_assert_cmpint(hd_address_compare(&a, &b), <, 0);
        g_assert_true(hd_address_same_slot(&a, &b));
        hd_address_parse("0001:00:00.0", &b, NULL);
        g_assert_cmpint(hd_address_compare(&a, &b), <, 0);
        g_assert_false(hd_address_same_slot(&a, &b));
        g_assert_true(hd_address_equal(&a, &a));
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/address/parse-canonical", test_parse_canonical);
        g_test_add_func("/address/parse-rejects", test_parse_rejects);
        g_test_add_func("/address/compare", test_compare);
        return g_test_run();
}
