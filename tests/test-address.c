/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

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
            "",
            "0000:zz:00.0",
            "../../etc",
            "0000:01:00.8",
            "0000:01:20.0",
            "0000:01:00",
            "0000:01:00.0/..",
            " 0000:01:00.0",
            "0000:01:00.0 ",
            "0000:01:00.00",
            "0000:001:00.0",
            "0000-01:00.0",
            "0000:01:00:0",
            "123456789:01:00.0",
            "0000:01:00.0\n",
            "0x00:01:00.0",
            "01:00",
            "10de:1b80",
            "0000::00.0",
            ":01:00.0",
            "01:.0",
            "01:00.",
            "1:2:3:4.0",
            "01:00.0.1",
            "pci_0000_01_00_0_",
            "pci_0000:01:00.0",
            "pci_000_01_00_0",
            "pci__01_00_0",
            "pci_0000_01_00_8",
            "pci_0000_1_00_0",
            "1.0:00",
            "+1:00.0",
            "-1:00.0",
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

/* What people paste (lspci, virsh nodedev-list, lspci -n), address.h's grammar. */
static void test_parse_pasted(void)
{
        static const struct {
                const char *text;
                HdDeviceSpecKind kind;
                const char *address; /* canonical (SLOT: function 0) */
                guint16 vendor, device;
        } good[] = {
            {"0000:01:00.0", HD_DEVICE_SPEC_ADDRESS, "0000:01:00.0"},
            {"01:00.0", HD_DEVICE_SPEC_ADDRESS, "0000:01:00.0"},
            {"1:0.0", HD_DEVICE_SPEC_ADDRESS, "0000:01:00.0"},
            {"1:00.1", HD_DEVICE_SPEC_ADDRESS, "0000:01:00.1"},
            {"0:1f.3", HD_DEVICE_SPEC_ADDRESS, "0000:00:1f.3"},
            {"1:01:00.0", HD_DEVICE_SPEC_ADDRESS, "0001:01:00.0"},
            {"000:01:00.0", HD_DEVICE_SPEC_ADDRESS, "0000:01:00.0"},
            {"pci_0000_01_00_0", HD_DEVICE_SPEC_ADDRESS, "0000:01:00.0"},
            {"pci_0000_3B_00_1", HD_DEVICE_SPEC_ADDRESS, "0000:3b:00.1"},
            {"pci_10000_e1_00_0", HD_DEVICE_SPEC_ADDRESS, "10000:e1:00.0"},
            {"01:00", HD_DEVICE_SPEC_SLOT, "0000:01:00.0"},
            {"1:0", HD_DEVICE_SPEC_SLOT, "0000:01:00.0"},
            {"0000:3b:1f", HD_DEVICE_SPEC_SLOT, "0000:3b:1f.0"},
            {"10de:1b80", HD_DEVICE_SPEC_IDS, NULL, 0x10de, 0x1b80},
            {"8086:15B8", HD_DEVICE_SPEC_IDS, NULL, 0x8086, 0x15b8},
        };
        for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
                g_autoptr(GError) error = NULL;
                HdDeviceSpec spec;
                char buf[HD_ADDRESS_STRLEN];

                if (!hd_device_spec_parse(good[i].text, &spec, &error))
                        g_error("%s: %s", good[i].text, error->message);
                g_assert_cmpint(spec.kind, ==, good[i].kind);
                if (good[i].address)
                        g_assert_cmpstr(hd_address_format(&spec.address, buf), ==, good[i].address);
                else {
                        g_assert_cmpuint(spec.vendor, ==, good[i].vendor);
                        g_assert_cmpuint(spec.device, ==, good[i].device);
                }
                /* hd_address_parse takes the address forms only */
                if (good[i].kind == HD_DEVICE_SPEC_ADDRESS) {
                        HdAddress a;
                        g_assert_true(hd_address_parse(good[i].text, &a, NULL));
                        g_assert_true(hd_address_equal(&a, &spec.address));
                } else {
                        HdAddress a;
                        g_assert_false(hd_address_parse(good[i].text, &a, &error));
                        g_assert_nonnull(strstr(error->message, "not one device"));
                }
        }
        /* the kernel's names stay strict */
        {
                HdAddress a;
                g_assert_false(hd_address_parse_sysfs_name("1:0.0", &a));
                g_assert_false(hd_address_parse_sysfs_name("pci_0000_01_00_0", &a));
                g_assert_false(hd_address_parse_sysfs_name("000:01:00.0", &a));
        }
        /* the refusal lists the forms */
        {
                g_autoptr(GError) error = NULL;
                HdDeviceSpec spec;
                g_assert_false(hd_device_spec_parse("gpu0", &spec, &error));
                g_assert_nonnull(strstr(error->message, "10de:1b80"));
                g_assert_nonnull(strstr(error->message, "pci_0000_01_00_0"));
        }
}

/* Slots and ids against fixtures: the desktop has a GPU 0000:01:00.0 and its audio .1. */
static void test_resolve(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(HdAddress));
        g_autoptr(GError) error = NULL;
        HdDeviceSpec spec;
        char buf[HD_ADDRESS_STRLEN];

        g_assert_nonnull(ctx);
        g_assert_true(hd_device_spec_parse("01:00", &spec, NULL));
        g_assert_true(
            hd_device_spec_resolve(ctx, &spec, "01:00", TRUE, "hostdev detach", out, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(out->len, ==, 2);
        g_assert_cmpstr(hd_address_format(&g_array_index(out, HdAddress, 0), buf), ==,
                        "0000:01:00.0");
        g_assert_cmpstr(hd_address_format(&g_array_index(out, HdAddress, 1), buf), ==,
                        "0000:01:00.1");
        /* one device wanted: the slot's functions are listed */
        g_assert_false(
            hd_device_spec_resolve(ctx, &spec, "01:00", FALSE, "hostdev show", out, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "0000:01:00.0, 0000:01:00.1"));
        g_assert_nonnull(strstr(error->message, "hostdev show 0000:01:00.0"));
        g_clear_error(&error);
        /* an empty slot */
        g_assert_true(hd_device_spec_parse("7:1f", &spec, NULL));
        g_assert_false(
            hd_device_spec_resolve(ctx, &spec, "7:1f", TRUE, "hostdev detach", out, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        g_clear_error(&error);
        /* ids nobody has */
        g_assert_true(hd_device_spec_parse("abcd:0001", &spec, NULL));
        g_assert_false(
            hd_device_spec_resolve(ctx, &spec, "abcd:0001", TRUE, "hostdev detach", out, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        g_assert_nonnull(strstr(error->message, "--vendor abcd"));
        g_clear_error(&error);
        /* ids one device has */
        g_array_set_size(out, 0);
        g_assert_true(hd_device_spec_parse("8086:3E92", &spec, NULL));
        g_assert_true(
            hd_device_spec_resolve(ctx, &spec, "8086:3E92", FALSE, "hostdev show", out, &error));
        g_assert_cmpuint(out->len, ==, 1);
        g_assert_cmpstr(hd_address_format(&g_array_index(out, HdAddress, 0), buf), ==,
                        "0000:00:02.0");
        /* ids two devices have (AMD root ports): refused, both listed */
        {
                g_autoptr(HdTestFixture) amd = hd_test_fixture_new("amd-host");
                g_autoptr(HdCtx) actx = hd_test_ctx_new(amd);

                g_assert_true(hd_device_spec_parse("1022:1482", &spec, NULL));
                g_assert_false(hd_device_spec_resolve(actx, &spec, "1022:1482", TRUE,
                                                      "hostdev detach", out, &error));
                g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
                g_assert_nonnull(strstr(error->message, "0000:00:01.0, 0000:00:03.0"));
                g_assert_nonnull(strstr(error->message, "hostdev detach 0000:00:01.0"));
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
        g_test_add_func("/address/parse-pasted", test_parse_pasted);
        g_test_add_func("/address/resolve", test_resolve);
        g_test_add_func("/address/compare", test_compare);
        return g_test_run();
}
