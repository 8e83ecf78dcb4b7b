/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * USB passthrough (issue 17 item 1, usb.h): the inventory of sys/bus/usb/devices, the
 * identities people type (vendor:product[:serial], port path; never the device number), the
 * refusal of ambiguous vendor:product, the verdicts (root hub, hub, root filesystem, held,
 * mounted storage, the only keyboard, the only mouse) and --force, the libvirt and QEMU
 * configuration, and `hostdev usb` with --json. Topology: usb-desk (and variants of it).
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "hostdev.h"
#include "testlib.h"

#define TOPOLOGY "usb-desk"

/* ---------------------------------------------------------------- fixtures */

/* usb-desk with changes: @extra_devices (a JSON array of usb devices appended), @mounts (a
 * JSON array replacing host.mounts) and @swaps (replacing host.swaps), each NULL to keep. */
static HdTestFixture *variant(const char *extra_devices, const char *mounts, const char *swaps)
{
        g_autoptr(JsonNode) topology = hd_test_topology_load(TOPOLOGY);
        JsonObject *root = json_node_get_object(topology);
        JsonObject *host = json_object_get_object_member(root, "host");

        if (extra_devices) {
                JsonArray *devices = json_object_get_array_member(
                    json_object_get_object_member(root, "usb"), "devices");
                g_autoptr(JsonNode) extra = hd_test_parse_json(extra_devices);
                JsonArray *add = json_node_get_array(extra);
                for (guint i = 0; i < json_array_get_length(add); i++)
                        json_array_add_element(devices,
                                               json_node_copy(json_array_get_element(add, i)));
        }
        if (mounts)
                json_object_set_member(host, "mounts", hd_test_parse_json(mounts));
        if (swaps)
                json_object_set_member(host, "swaps", hd_test_parse_json(swaps));
        return hd_test_fixture_from_topology(topology);
}

typedef struct {
        HdTestFixture *fx;
        HdCtx *ctx;
        GPtrArray *devices;
} Usb;

static void usb_load(Usb *u, HdTestFixture *fx)
{
        g_autoptr(GError) error = NULL;

        u->fx = fx;
        u->ctx = hd_test_ctx_new(fx);
        u->devices = hd_usb_scan(u->ctx, &error);
        g_assert_no_error(error);
        g_assert_nonnull(u->devices);
        hd_usb_evaluate(u->ctx, u->devices);
}

/* Read the devices again after the test changed the tree. */
static void usb_rescan(Usb *u)
{
        g_autoptr(GError) error = NULL;

        g_ptr_array_unref(u->devices);
        u->devices = hd_usb_scan(u->ctx, &error);
        g_assert_no_error(error);
        hd_usb_evaluate(u->ctx, u->devices);
}

static void usb_clear(Usb *u)
{
        g_ptr_array_unref(u->devices);
        hd_ctx_free(u->ctx);
        hd_test_fixture_free(u->fx);
}

static HdUsbDevice *find(Usb *u, const char *port_path)
{
        for (guint i = 0; i < u->devices->len; i++) {
                HdUsbDevice *d = u->devices->pdata[i];
                if (strcmp(d->port_path, port_path) == 0)
                        return d;
        }
        g_error("no USB device %s", port_path);
        return NULL;
}

static void assert_has(const char *text, const char *needle)
{
        if (!text || !strstr(text, needle))
                g_error("expected \"%s\" in:\n%s", needle, text ? text : "(null)");
}

static void assert_reason(const HdUsbDevice *d, const char *needle)
{
        for (guint i = 0; i < d->reasons->len; i++)
                if (strstr(d->reasons->pdata[i], needle))
                        return;
        g_error("%s: no reason with \"%s\" (verdict %s)", d->port_path, needle, d->verdict);
}

/* ---------------------------------------------------------------- inventory */

static void test_inventory(void)
{
        static const char *const order[] = {"usb1",  "1-1", "1-2",  "1-3", "1-3.1",
                                            "1-3.2", "1-4", "usb2", "2-1"};
        Usb u;
        HdUsbDevice *d;
        HdUsbInterface *f;
        g_autofree char *group_link = NULL;
        g_autofree char *group = NULL;

        usb_load(&u, hd_test_fixture_new(TOPOLOGY));
        /* devices and root hubs only, in bus and port order; interfaces belong to them */
        g_assert_cmpuint(u.devices->len, ==, G_N_ELEMENTS(order));
        for (guint i = 0; i < u.devices->len; i++)
                g_assert_cmpstr(((HdUsbDevice *)u.devices->pdata[i])->port_path, ==, order[i]);

        group_link = hd_test_path(u.fx, "sys/bus/pci/devices/0000:00:14.0/iommu_group");
        group = g_file_read_link(group_link, NULL);
        g_assert_nonnull(group);

        d = find(&u, "2-1");
        g_assert_false(d->root_hub);
        g_assert_cmpint(d->busnum, ==, 2);
        g_assert_cmpint(d->devnum, ==, 2);
        g_assert_cmpstr(d->devpath, ==, "1");
        g_assert_cmpint(d->vendor_id, ==, 0x0781);
        g_assert_cmpint(d->product_id, ==, 0x5581);
        g_assert_cmpstr(d->manufacturer, ==, "SanDisk");
        g_assert_cmpstr(d->product, ==, "Ultra");
        g_assert_cmpstr(d->serial, ==, "4C530001230615117423");
        g_assert_cmpstr(d->speed, ==, "5000");
        g_assert_true(hd_usb_device_is_superspeed(d));
        g_assert_cmpint(d->device_class, ==, 0);
        g_assert_cmpstr(d->removable, ==, "removable");
        g_assert_cmpint(d->authorized, ==, 1);
        g_assert_cmpint(d->maxchild, ==, 0);
        g_assert_cmpstr(d->controller, ==, "0000:00:14.0");
        g_assert_cmpint(d->iommu_group, ==, atoi(strrchr(group, '/') + 1));
        g_assert_cmpstr(d->node, ==, "/dev/bus/usb/002/002");
        g_assert_cmpstr(d->sysfs_path, ==, "sys/devices/pci0000:00/0000:00:14.0/usb2/2-1");
        g_assert_cmpuint(d->interfaces->len, ==, 1);
        f = d->interfaces->pdata[0];
        g_assert_cmpstr(f->name, ==, "2-1:1.0");
        g_assert_cmpint(f->number, ==, 0);
        g_assert_cmpint(f->iface_class, ==, 0x08);
        g_assert_cmpint(f->subclass, ==, 0x06);
        g_assert_cmpint(f->protocol, ==, 0x50);
        g_assert_cmpstr(f->driver, ==, "usb-storage");
        g_assert_cmpuint(f->blockdevs->len, ==, 2);
        g_assert_cmpstr(f->blockdevs->pdata[0], ==, "sdb");
        g_assert_cmpstr(f->blockdevs->pdata[1], ==, "sdb1");
        {
                g_autofree char *kind = hd_usb_device_kind(d);
                g_assert_cmpstr(kind, ==, "mass storage");
        }

        /* a device behind the hub: its port path has the hub's in front */
        d = find(&u, "1-3.2");
        g_assert_cmpint(d->busnum, ==, 1);
        g_assert_cmpstr(d->devpath, ==, "3.2");
        g_assert_cmpstr(d->serial, ==, "A10K8ABC");
        g_assert_cmpstr(d->speed, ==, "12");
        g_assert_false(hd_usb_device_is_superspeed(d));
        g_assert_cmpstr(d->controller, ==, "0000:00:14.0");
        g_assert_cmpstr(d->sysfs_path, ==, "sys/devices/pci0000:00/0000:00:14.0/usb1/1-3/1-3.2");
        g_assert_cmpstr(((HdUsbInterface *)d->interfaces->pdata[0])->driver, ==, "ftdi_sio");

        /* the keyboard: two HID interfaces, the first with boot protocol 1 */
        d = find(&u, "1-1");
        g_assert_cmpuint(d->interfaces->len, ==, 2);
        g_assert_true(hd_usb_device_has_interface(d, 0x03, 1));
        g_assert_false(hd_usb_device_has_interface(d, 0x03, 2));
        g_assert_null(d->serial);
        g_assert_cmpstr(d->speed, ==, "1.5");

        /* the hub */
        d = find(&u, "1-3");
        g_assert_cmpint(d->device_class, ==, 0x09);
        g_assert_cmpint(d->maxchild, ==, 4);
        g_assert_cmpstr(d->removable, ==, "fixed");

        /* a root hub: its serial is the controller's address, its interface 1-0:1.0 */
        d = find(&u, "usb1");
        g_assert_true(d->root_hub);
        g_assert_cmpint(d->busnum, ==, 1);
        g_assert_cmpint(d->devnum, ==, 1);
        g_assert_cmpstr(d->devpath, ==, "0");
        g_assert_cmpint(d->vendor_id, ==, 0x1d6b);
        g_assert_cmpint(d->product_id, ==, 0x0002);
        g_assert_cmpstr(d->serial, ==, "0000:00:14.0");
        g_assert_cmpint(d->maxchild, ==, 12);
        g_assert_cmpuint(d->interfaces->len, ==, 1);
        g_assert_cmpstr(((HdUsbInterface *)d->interfaces->pdata[0])->name, ==, "1-0:1.0");
        g_assert_cmpstr(((HdUsbInterface *)d->interfaces->pdata[0])->driver, ==, "hub");
        g_assert_cmpint(find(&u, "usb2")->product_id, ==, 0x0003);
        usb_clear(&u);
}

/* Names from usb.ids below the root, for devices whose strings are missing; a tree without
 * it has none. */
static void test_names(void)
{
        static const char ids[] = "# usb.ids\n"
                                  "#\tdevice  device_name\n"
                                  "0529  Aladdin Knowledge Systems\n"
                                  "\t0001  HASP copy protection dongle\n"
                                  "\t0514  eToken Pro v4.2.5.4\n"
                                  "0781  SanDisk Corp.\n"
                                  "\t5581  Ultra\n"
                                  "\t\t0001  an interface line, skipped\n"
                                  "\n"
                                  "C 03  Human Interface Device\n"
                                  "\t0529  not a product (the class tables)\n"
                                  "046d  not a vendor (after the vendor list)\n";
        Usb u;
        g_autofree char *dir = NULL;
        g_autofree char *file = NULL;
        HdUsbDevice *d;

        usb_load(&u, hd_test_fixture_new(TOPOLOGY));
        g_assert_null(find(&u, "1-4")->vendor_name);
        dir = hd_test_path(u.fx, "usr/share/hwdata");
        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        file = g_build_filename(dir, "usb.ids", NULL);
        g_assert_true(g_file_set_contents(file, ids, -1, NULL));
        usb_rescan(&u);
        d = find(&u, "1-4");
        g_assert_cmpstr(d->vendor_name, ==, "Aladdin Knowledge Systems");
        g_assert_cmpstr(d->product_name, ==, "HASP copy protection dongle");
        g_assert_cmpstr(hd_usb_device_name(d), ==, "HASP HL 3.25"); /* its own string first */
        g_clear_pointer(&d->product, g_free);
        g_assert_cmpstr(hd_usb_device_name(d), ==, "HASP copy protection dongle");
        g_assert_cmpstr(find(&u, "2-1")->vendor_name, ==, "SanDisk Corp.");
        g_assert_null(find(&u, "1-1")->vendor_name); /* 046d after the vendor list */
        g_assert_null(find(&u, "1-1")->product_name);
        usb_clear(&u);
}

/* A host without USB: nothing, no error. */
static void test_inventory_no_usb(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) devices = hd_usb_scan(ctx, &error);

        g_assert_no_error(error);
        g_assert_cmpuint(devices->len, ==, 0);
}

/* ---------------------------------------------------------------- identities */

static void assert_parses(const char *text, const char *serial, const char *canonical)
{
        g_auto(HdUsbSpec) spec = {0};
        g_autoptr(GError) error = NULL;
        g_autofree char *s = NULL;

        if (!hd_usb_spec_parse(text, serial, &spec, &error))
                g_error("'%s' refused: %s", text, error->message);
        s = hd_usb_spec_format(&spec);
        g_assert_cmpstr(s, ==, canonical);
}

static void assert_refused_spec(const char *text, const char *serial, const char *needle)
{
        g_auto(HdUsbSpec) spec = {0};
        g_autoptr(GError) error = NULL;

        if (hd_usb_spec_parse(text, serial, &spec, &error))
                g_error("'%s' accepted", text);
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        if (needle)
                assert_has(error->message, needle);
}

static void test_spec_valid(void)
{
        g_auto(HdUsbSpec) spec = {0};

        assert_parses("046d:c52b", NULL, "046d:c52b");
        assert_parses("046D:C52B", NULL, "046d:c52b");
        assert_parses("0403:6001:A10K7XYZ", NULL, "0403:6001:A10K7XYZ");
        assert_parses("0403:6001", "A10K7XYZ", "0403:6001:A10K7XYZ");
        /* a serial may hold ':' (the first two separate vendor and product) */
        assert_parses("1d6b:0002:0000:00:14.0", NULL, "1d6b:0002:0000:00:14.0");
        assert_parses("1-2", NULL, "1-2");
        assert_parses("1-2.3", NULL, "1-2.3");
        assert_parses("12-31.1.2.3.4.5", NULL, "12-31.1.2.3.4.5");
        assert_parses("999-1", NULL, "999-1");

        g_assert_true(hd_usb_spec_parse("3-10.4", NULL, &spec, NULL));
        g_assert_cmpint(spec.kind, ==, HD_USB_SPEC_PORT);
        g_assert_cmpuint(spec.bus, ==, 3);
        g_assert_cmpstr(spec.devpath, ==, "10.4");
        hd_usb_spec_clear(&spec);
        g_assert_true(hd_usb_spec_parse("0403:6001:A1", NULL, &spec, NULL));
        g_assert_cmpint(spec.kind, ==, HD_USB_SPEC_IDS);
        g_assert_cmpuint(spec.vendor, ==, 0x0403);
        g_assert_cmpuint(spec.product, ==, 0x6001);
        g_assert_cmpstr(spec.serial, ==, "A1");
}

static void test_spec_hostile(void)
{
        static const char *const bad[] = {
            "",
            "046d",
            "046d:",
            "046d:c52",
            "046d:c52bb",
            "046d:c52b:",
            "046d-c52b",
            "0x46d:c52b",
            "46d:c52b",
            " 046d:c52b",
            "046d:c52b ",
            "046d:c52b:a b",
            "046d:c52b:x'y",
            "046d:c52b:x\"y",
            "046d:c52b:x\\y",
            "046d:c52b:\t",
            "046d:c52b:caf\xc3\xa9",
            "g46d:c52b",
            "1-0",
            "0-1",
            "01-1",
            "1-01",
            "1-32",
            "1000-1",
            "1-1.2.3.4.5.6.7",
            "1-",
            "-1",
            "1-2.",
            "1-.2",
            "1-2..3",
            "1--2",
            "1-2.3/..",
            "../1-2",
            "1-2:1.0",
            "usb1",
            "1-2 ",
            "+1-2",
            "1-+2",
            "1-2\n",
            "1-2\xff",
            "\xff\xfe",
            "1:4",
            "001:004",
            "001/004",
            "1/4",
            "1.4",
        };

        for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
                assert_refused_spec(bad[i], NULL, NULL);
        /* a device number is refused saying why */
        assert_refused_spec("1:4", NULL, "change at every replug");
        assert_refused_spec("001/004", NULL, "port path");
        assert_refused_spec("1.4", NULL, "hostdev usb list");
        assert_refused_spec("usb1", NULL, "root hub");
        /* serials: not twice, not with a port path, typeable, at most 126 characters */
        assert_refused_spec("0403:6001:A1", "A1", "once");
        assert_refused_spec("1-2", "A1", "--serial goes with vendor:product");
        assert_refused_spec("0403:6001", "a b", "--serial");
        assert_refused_spec("0403:6001", "", "--serial");
        {
                g_autofree char *longest = g_strnfill(HD_USB_SERIAL_MAX, 'A');
                g_autofree char *too_long = g_strnfill(HD_USB_SERIAL_MAX + 1, 'A');
                g_autofree char *text = g_strconcat("0403:6001:", too_long, NULL);

                g_autofree char *canonical = g_strconcat("0403:6001:", longest, NULL);

                assert_parses("0403:6001", longest, canonical);
                assert_refused_spec("0403:6001", too_long, NULL);
                assert_refused_spec(text, NULL, NULL);
        }
        /* the message quotes the text without its control characters */
        {
                g_auto(HdUsbSpec) spec = {0};
                g_autoptr(GError) error = NULL;
                g_assert_false(hd_usb_spec_parse("x\x1b[31m", NULL, &spec, &error));
                g_assert_null(strchr(error->message, '\x1b'));
        }
}

/* ---------------------------------------------------------------- resolution */

static HdUsbDevice *resolve(Usb *u, const char *text, const char *serial, GError **error)
{
        g_auto(HdUsbSpec) spec = {0};

        g_assert_true(hd_usb_spec_parse(text, serial, &spec, NULL));
        return hd_usb_resolve(u->ctx, u->devices, &spec, "hostdev usb show", error);
}

static void test_resolve(void)
{
        Usb u;
        g_autoptr(GError) error = NULL;
        HdUsbDevice *d;

        usb_load(&u, hd_test_fixture_new(TOPOLOGY));
        /* two identical serial adapters: refused, each listed with the commands that pick it */
        g_assert_null(resolve(&u, "0403:6001", NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        assert_has(error->message, "2 USB devices have vendor:product 0403:6001");
        assert_has(error->message, "1-3.1 (serial A10K7XYZ): hostdev usb show 0403:6001:A10K7XYZ "
                                   "or hostdev usb show 1-3.1");
        assert_has(error->message, "1-3.2 (serial A10K8ABC): hostdev usb show 0403:6001:A10K8ABC "
                                   "or hostdev usb show 1-3.2");
        g_clear_error(&error);

        /* by serial, either way, and by port path */
        d = resolve(&u, "0403:6001:A10K8ABC", NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(d->port_path, ==, "1-3.2");
        d = resolve(&u, "0403:6001", "A10K7XYZ", &error);
        g_assert_no_error(error);
        g_assert_cmpstr(d->port_path, ==, "1-3.1");
        d = resolve(&u, "1-3.1", NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(d->serial, ==, "A10K7XYZ");
        /* a unique vendor:product */
        d = resolve(&u, "0529:0001", NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(d->port_path, ==, "1-4");

        /* nothing: says so and names hostdev usb list */
        g_assert_null(resolve(&u, "dead:beef", NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        assert_has(error->message, "no USB device dead:beef");
        assert_has(error->message, "hostdev usb list");
        g_clear_error(&error);
        g_assert_null(resolve(&u, "0403:6001:NOPE", NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        assert_has(error->message, "has that serial");
        g_clear_error(&error);
        g_assert_null(resolve(&u, "1-5", NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        assert_has(error->message, "nothing is plugged into that port");
        g_clear_error(&error);
        /* root hubs are never picked: not by ids, not by serial */
        g_assert_null(resolve(&u, "1d6b:0002", NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        g_clear_error(&error);
        g_assert_null(resolve(&u, "1d6b:0003:0000:00:14.0", NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        usb_clear(&u);
}

/* ---------------------------------------------------------------- verdicts */

static void assert_verdict(Usb *u, const char *port_path, const char *verdict, gboolean forceable)
{
        HdUsbDevice *d = find(u, port_path);

        g_assert_cmpstr(d->verdict, ==, verdict);
        g_assert_cmpint(d->forceable, ==, forceable);
        if (strcmp(verdict, "ready") == 0)
                g_assert_cmpuint(d->reasons->len, ==, 0);
        else
                g_assert_cmpuint(d->reasons->len, >, 0);
}

static void assert_guest(const HdUsbDevice *d, gboolean force, gboolean ok)
{
        HdUsbGuestOptions opts = {.force = force};
        g_autoptr(GError) error = NULL;

        g_assert_cmpint(hd_usb_guest_check(d, &opts, &error), ==, ok);
        if (!ok) {
                g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
                assert_has(error->message, d->port_path);
                assert_has(error->message, d->verdict);
        }
}

static void test_verdicts(void)
{
        Usb u;
        HdUsbDevice *d;

        usb_load(&u, hd_test_fixture_new(TOPOLOGY));
        assert_verdict(&u, "usb1", "root-hub", FALSE);
        assert_reason(find(&u, "usb1"), "controller 0000:00:14.0");
        assert_verdict(&u, "usb2", "root-hub", FALSE);
        assert_verdict(&u, "1-3", "hub", FALSE);
        assert_reason(find(&u, "1-3"), "is a hub");
        assert_verdict(&u, "1-1", "only-keyboard", TRUE);
        assert_reason(find(&u, "1-1"), "the host's only keyboard");
        assert_verdict(&u, "1-2", "only-mouse", TRUE);
        assert_reason(find(&u, "1-2"), "the host's only mouse");
        assert_verdict(&u, "2-1", "host-storage", TRUE);
        assert_reason(find(&u, "2-1"), "/dev/sdb1 on /media/stick");
        d = find(&u, "2-1");
        g_assert_cmpuint(d->host_use->len, ==, 1);
        g_assert_cmpstr(d->host_use->pdata[0], ==, "/dev/sdb1 on /media/stick");
        assert_verdict(&u, "1-3.1", "ready", FALSE);
        assert_verdict(&u, "1-3.2", "ready", FALSE);
        assert_verdict(&u, "1-4", "ready", FALSE);
        g_assert_cmpuint(find(&u, "1-4")->holders->len, ==, 0);

        /* refused unless --force, hubs and root hubs even with it */
        assert_guest(find(&u, "1-4"), FALSE, TRUE);
        assert_guest(find(&u, "1-1"), FALSE, FALSE);
        assert_guest(find(&u, "1-1"), TRUE, TRUE);
        assert_guest(find(&u, "1-2"), FALSE, FALSE);
        assert_guest(find(&u, "1-2"), TRUE, TRUE);
        assert_guest(find(&u, "2-1"), FALSE, FALSE);
        assert_guest(find(&u, "2-1"), TRUE, TRUE);
        assert_guest(find(&u, "1-3"), TRUE, FALSE);
        assert_guest(find(&u, "usb1"), TRUE, FALSE);
        /* a device nobody evaluated is not given */
        {
                g_autoptr(GPtrArray) fresh = hd_usb_scan(u.ctx, NULL);
                g_autoptr(GError) error = NULL;
                HdUsbGuestOptions opts = {.force = TRUE};

                g_assert_false(hd_usb_guest_check(fresh->pdata[1], &opts, &error));
                g_assert_error(error, HD_ERROR, HD_ERROR_FAILED);
        }
        usb_clear(&u);
}

/* A second keyboard (on the hub) makes the first one assignable; the mouse stays the only. */
static void test_second_keyboard(void)
{
        Usb u;

        usb_load(&u, variant("[{\"port\": \"1-3.3\", \"id\": \"413c:2113\", \"product\": "
                             "\"Dell KB216\", \"speed\": \"1.5\", \"interfaces\": [{\"class\": "
                             "\"03\", \"subclass\": \"01\", \"protocol\": \"01\", \"driver\": "
                             "\"usbhid\"}]}]",
                             NULL, NULL));
        assert_verdict(&u, "1-1", "ready", FALSE);
        assert_verdict(&u, "1-3.3", "ready", FALSE);
        assert_verdict(&u, "1-2", "only-mouse", TRUE);
        usb_clear(&u);

        /* a second mouse the same way */
        usb_load(&u, variant("[{\"port\": \"1-3.3\", \"id\": \"045e:0040\", \"speed\": \"1.5\", "
                             "\"interfaces\": [{\"class\": \"03\", \"subclass\": \"01\", "
                             "\"protocol\": \"02\", \"driver\": \"usbhid\"}]}]",
                             NULL, NULL));
        assert_verdict(&u, "1-2", "ready", FALSE);
        assert_verdict(&u, "1-1", "only-keyboard", TRUE);
        usb_clear(&u);

        /* a second keyboard already given to a VM (usbfs) is not the host's */
        usb_load(&u, variant("[{\"port\": \"1-3.3\", \"id\": \"413c:2113\", \"speed\": \"1.5\", "
                             "\"interfaces\": [{\"class\": \"03\", \"subclass\": \"01\", "
                             "\"protocol\": \"01\", \"driver\": \"usbfs\"}]}]",
                             NULL, NULL));
        assert_verdict(&u, "1-1", "only-keyboard", TRUE);
        assert_verdict(&u, "1-3.3", "held", TRUE);
        usb_clear(&u);
}

/* Storage: unmounted is ready; swap and a dm holder are host use; the root filesystem is
 * refused even with --force. */
static void test_storage(void)
{
        Usb u;
        g_autofree char *holders = NULL;

        usb_load(&u, variant(NULL, "[]", NULL));
        assert_verdict(&u, "2-1", "ready", FALSE);
        g_assert_cmpuint(find(&u, "2-1")->host_use->len, ==, 0);
        /* held by device-mapper (a dm-crypt on the stick), nothing mounted */
        holders = hd_test_path(u.fx, "sys/class/block/sdb1/holders/dm-0");
        g_assert_cmpint(g_mkdir_with_parents(holders, 0755), ==, 0);
        usb_rescan(&u);
        assert_verdict(&u, "2-1", "host-storage", TRUE);
        assert_reason(find(&u, "2-1"), "sdb1 is held by dm-0");
        usb_clear(&u);

        usb_load(&u, variant(NULL, "[]", "[{\"source\": \"/dev/sdb1\"}]"));
        assert_verdict(&u, "2-1", "host-storage", TRUE);
        assert_reason(find(&u, "2-1"), "/dev/sdb1 as swap");
        usb_clear(&u);

        usb_load(&u, variant(NULL, "[{\"source\": \"/dev/sdb1\", \"target\": \"/\"}]", NULL));
        assert_verdict(&u, "2-1", "root-fs", FALSE);
        assert_reason(find(&u, "2-1"), "root filesystem");
        assert_guest(find(&u, "2-1"), TRUE, FALSE);
        usb_clear(&u);
}

/* Held: an interface on usbfs, or a process with the node open (pid, comm, VM). */
static void test_held(void)
{
        Usb u;
        HdUsbDevice *d;
        HdUsbHolder *h;
        g_autofree char *link = NULL;
        g_autofree char *proc = NULL;
        g_autofree char *fd = NULL;
        g_autofree char *comm = NULL;
        g_autofree char *cmdline = NULL;
        static const char args[] = "qemu-system-x86_64\0-name\0guest=win10,debug-threads=on\0"
                                   "-device\0usb-host\0";

        usb_load(&u, hd_test_fixture_new(TOPOLOGY));
        link = hd_test_path(u.fx, "sys/bus/usb/devices/1-4:1.0/driver");
        g_assert_cmpint(symlink("../../../../../../bus/usb/drivers/usbfs", link), ==, 0);
        usb_rescan(&u);
        d = find(&u, "1-4");
        g_assert_cmpstr(((HdUsbInterface *)d->interfaces->pdata[0])->driver, ==, "usbfs");
        assert_verdict(&u, "1-4", "held", TRUE);
        assert_reason(d, "usbfs");
        assert_guest(d, FALSE, FALSE);
        assert_guest(d, TRUE, TRUE);
        g_assert_cmpint(unlink(link), ==, 0);
        usb_rescan(&u);

        /* a QEMU of libvirt's domain win10 has the node open */
        proc = hd_test_path(u.fx, "proc/4242/fd");
        g_assert_cmpint(g_mkdir_with_parents(proc, 0755), ==, 0);
        fd = g_build_filename(proc, "3", NULL);
        d = find(&u, "1-4");
        g_assert_cmpint(symlink(d->node, fd), ==, 0);
        comm = hd_test_path(u.fx, "proc/4242/comm");
        g_assert_true(g_file_set_contents(comm, "qemu-system-x86\n", -1, NULL));
        cmdline = hd_test_path(u.fx, "proc/4242/cmdline");
        g_assert_true(g_file_set_contents(cmdline, args, sizeof(args) - 1, NULL));
        usb_rescan(&u);
        d = find(&u, "1-4");
        assert_verdict(&u, "1-4", "held", TRUE);
        g_assert_cmpuint(d->holders->len, ==, 1);
        h = d->holders->pdata[0];
        g_assert_cmpint(h->pid, ==, 4242);
        g_assert_cmpstr(h->comm, ==, "qemu-system-x86");
        g_assert_cmpstr(h->vm, ==, "win10");
        assert_reason(d, "4242 (qemu-system-x86, VM win10) has /dev/bus/usb/001/007 open");
        /* the others are not held */
        assert_verdict(&u, "1-3.1", "ready", FALSE);
        g_assert_cmpuint(find(&u, "1-3.1")->holders->len, ==, 0);
        usb_clear(&u);
}

/* ---------------------------------------------------------------- guest configuration */

static HdUsbGuestDevice guest_device(Usb *u, const char *text)
{
        g_auto(HdUsbSpec) spec = {0};
        HdUsbGuestDevice g = {0};
        guint same = 0;

        g_assert_true(hd_usb_spec_parse(text, NULL, &spec, NULL));
        g.dev = hd_usb_resolve(u->ctx, u->devices, &spec, "hostdev usb xml", NULL);
        g_assert_nonnull(g.dev);
        for (guint i = 0; i < u->devices->len; i++) {
                const HdUsbDevice *o = u->devices->pdata[i];
                same += !o->root_hub && o->vendor_id == g.dev->vendor_id &&
                        o->product_id == g.dev->product_id;
        }
        g.kind = spec.kind;
        g.unique_ids = same == 1;
        g.serial_given = spec.serial != NULL;
        return g;
}

static void test_guest_xml(void)
{
        Usb u;
        HdUsbGuestDevice g[2];
        g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *xml = NULL;
        g_autofree char *pinned = NULL;

        usb_load(&u, hd_test_fixture_new(TOPOLOGY));
        /* unique vendor:product (by ids or by port): libvirt finds it at each start */
        g[0] = guest_device(&u, "0529:0001");
        g[1] = guest_device(&u, "2-1");
        xml = hd_usb_guest_xml(g, 2, warnings);
        g_assert_cmpstr(xml, ==,
                        "<hostdev mode='subsystem' type='usb' managed='no'>\n"
                        "  <source startupPolicy='optional'>\n"
                        "    <vendor id='0x0529'/>\n"
                        "    <product id='0x0001'/>\n"
                        "  </source>\n"
                        "</hostdev>\n"
                        "<hostdev mode='subsystem' type='usb' managed='no'>\n"
                        "  <source startupPolicy='optional'>\n"
                        "    <vendor id='0x0781'/>\n"
                        "    <product id='0x5581'/>\n"
                        "  </source>\n"
                        "</hostdev>\n");
        g_assert_cmpuint(warnings->len, ==, 0);
        /* one of two identical adapters: pinned to bus and device now, with the warning */
        g[0] = guest_device(&u, "0403:6001:A10K8ABC");
        pinned = hd_usb_guest_xml(g, 1, warnings);
        g_assert_cmpstr(pinned, ==,
                        "<hostdev mode='subsystem' type='usb' managed='no'>\n"
                        "  <source startupPolicy='optional'>\n"
                        "    <vendor id='0x0403'/>\n"
                        "    <product id='0x6001'/>\n"
                        "    <address bus='1' device='6'/>\n"
                        "  </source>\n"
                        "</hostdev>\n");
        g_assert_cmpuint(warnings->len, ==, 1);
        assert_has(warnings->pdata[0], "1-3.2: several devices share vendor:product 0403:6001");
        assert_has(warnings->pdata[0], "after a replug or a reboot it no longer matches");
        usb_clear(&u);
}

static void test_guest_qemu(void)
{
        Usb u;
        HdUsbGuestDevice g[3];
        g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
        g_auto(GStrv) args = NULL;
        g_autofree char *joined = NULL;

        usb_load(&u, hd_test_fixture_new(TOPOLOGY));
        g[0] = guest_device(&u, "0529:0001");          /* unique ids */
        g[1] = guest_device(&u, "0403:6001:A10K8ABC"); /* serial among identical ones */
        g[2] = guest_device(&u, "1-3.1");              /* port path */
        args = hd_usb_guest_qemu_args(g, 3, NULL, warnings);
        joined = g_strjoinv(" ", args);
        g_assert_cmpstr(joined, ==,
                        "-device qemu-xhci,id=xhci "
                        "-device usb-host,bus=xhci.0,vendorid=0x0529,productid=0x0001,id=usb-1-4 "
                        "-device usb-host,bus=xhci.0,hostbus=1,hostport=3.2,vendorid=0x0403,"
                        "productid=0x6001,id=usb-1-3.2 "
                        "-device usb-host,bus=xhci.0,hostbus=1,hostport=3.1,id=usb-1-3.1");
        /* never the device number */
        g_assert_null(strstr(joined, "hostaddr"));
        g_assert_cmpuint(warnings->len, ==, 1);
        assert_has(warnings->pdata[0], "1-3.2: several devices share vendor:product 0403:6001");
        /* the guest's own xHCI: none added, the devices on it */
        {
                HdUsbGuestOptions opts = {.xhci = "usb3"};
                g_auto(GStrv) own = hd_usb_guest_qemu_args(g, 1, &opts, NULL);
                g_autofree char *text = g_strjoinv(" ", own);

                g_assert_cmpstr(text, ==,
                                "-device usb-host,bus=usb3.0,vendorid=0x0529,productid=0x0001,"
                                "id=usb-1-4");
        }
        g_assert_true(hd_usb_qemu_id_is_valid("xhci"));
        g_assert_true(hd_usb_qemu_id_is_valid("usb-1.2_x"));
        g_assert_false(hd_usb_qemu_id_is_valid(""));
        g_assert_false(hd_usb_qemu_id_is_valid("1xhci"));
        g_assert_false(hd_usb_qemu_id_is_valid("x,bus=y"));
        g_assert_false(hd_usb_qemu_id_is_valid("x y"));
        usb_clear(&u);
}

/* ---------------------------------------------------------------- the CLI */

static int run(const HdTestFixture *fx, char **out, char **err, ...)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        va_list ap;
        const char *a;

        g_ptr_array_add(argv, (gpointer) "--root");
        g_ptr_array_add(argv, fx->root);
        va_start(ap, err);
        while ((a = va_arg(ap, const char *)))
                g_ptr_array_add(argv, (gpointer)a);
        va_end(ap);
        g_ptr_array_add(argv, NULL);
        return hd_test_run_cli((const char *const *)argv->pdata, NULL, out, err);
}

static void assert_keys(JsonObject *o, const char *const *keys, gsize n)
{
        g_autoptr(GList) members = json_object_get_members(o);

        g_assert_cmpuint(g_list_length(members), ==, n);
        for (gsize i = 0; i < n; i++)
                if (!json_object_has_member(o, keys[i]))
                        g_error("no member %s", keys[i]);
}

static void test_cli_list(void)
{
        static const char *const device_keys[] = {
            "port_path",  "root_hub",     "busnum",       "devnum",  "devpath",     "vendor_id",
            "product_id", "manufacturer", "product",      "serial",  "vendor_name", "product_name",
            "speed",      "superspeed",   "device_class", "kind",    "removable",   "authorized",
            "maxchild",   "controller",   "iommu_group",  "node",    "sysfs_path",  "interfaces",
            "verdict",    "forceable",    "reasons",      "holders", "host_use",
        };
        static const char *const iface_keys[] = {"name",     "number",     "class",  "subclass",
                                                 "protocol", "class_name", "driver", "blockdevs"};
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new(TOPOLOGY);
        g_autofree char *out = NULL;
        g_autofree char *text = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonArray *devs;
        JsonObject *stick = NULL;

        g_assert_cmpint(run(fx, &out, NULL, "usb", "list", "--json", NULL), ==, 0);
        root = hd_test_parse_json(out);
        devs = json_object_get_array_member(json_node_get_object(root), "devices");
        g_assert_cmpuint(json_array_get_length(devs), ==, 9);
        for (guint i = 0; i < json_array_get_length(devs); i++) {
                JsonObject *o = json_array_get_object_element(devs, i);
                assert_keys(o, device_keys, G_N_ELEMENTS(device_keys));
                if (strcmp(json_object_get_string_member(o, "port_path"), "2-1") == 0)
                        stick = o;
        }
        g_assert_nonnull(stick);
        g_assert_cmpstr(json_object_get_string_member(stick, "vendor_id"), ==, "0781");
        g_assert_cmpstr(json_object_get_string_member(stick, "product_id"), ==, "5581");
        g_assert_cmpstr(json_object_get_string_member(stick, "device_class"), ==, "00");
        g_assert_cmpstr(json_object_get_string_member(stick, "speed"), ==, "5000");
        g_assert_true(json_object_get_boolean_member(stick, "superspeed"));
        g_assert_cmpstr(json_object_get_string_member(stick, "node"), ==, "/dev/bus/usb/002/002");
        g_assert_cmpstr(json_object_get_string_member(stick, "controller"), ==, "0000:00:14.0");
        g_assert_cmpstr(json_object_get_string_member(stick, "verdict"), ==, "host-storage");
        g_assert_true(json_object_get_boolean_member(stick, "forceable"));
        {
                JsonArray *ifs = json_object_get_array_member(stick, "interfaces");
                JsonObject *f = json_array_get_object_element(ifs, 0);
                assert_keys(f, iface_keys, G_N_ELEMENTS(iface_keys));
                g_assert_cmpstr(json_object_get_string_member(f, "class"), ==, "08");
                g_assert_cmpstr(json_object_get_string_member(f, "driver"), ==, "usb-storage");
                g_assert_cmpstr(
                    json_array_get_string_element(json_object_get_array_member(f, "blockdevs"), 1),
                    ==, "sdb1");
        }

        g_assert_cmpint(run(fx, &text, NULL, "usb", "list", NULL), ==, 0);
        assert_has(text, "PORT");
        assert_has(text, "VERDICT");
        assert_has(text, "1-3.2  0403:6001  FT232R USB UART");
        assert_has(text, "A10K8ABC");
        assert_has(text, "only-keyboard");
        assert_has(text, "host-storage");
}

static void test_cli_show(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new(TOPOLOGY);
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autofree char *json = NULL;
        g_autofree char *amb = NULL;
        g_autofree char *bad = NULL;
        g_autoptr(JsonNode) root = NULL;

        g_assert_cmpint(run(fx, &out, NULL, "usb", "show", "2-1", NULL), ==, 0);
        assert_has(out, "2-1  0781:5581 SanDisk Ultra");
        assert_has(out, "verdict:     host-storage");
        assert_has(out, "/dev/sdb1 on /media/stick");
        assert_has(out, "SuperSpeed");
        g_assert_cmpint(run(fx, &json, NULL, "usb", "show", "0403:6001", "--serial", "A10K7XYZ",
                            "--json", NULL),
                        ==, 0);
        root = hd_test_parse_json(json);
        g_assert_cmpstr(json_object_get_string_member(json_node_get_object(root), "port_path"), ==,
                        "1-3.1");
        /* ambiguous: the matches and the commands that pick each */
        g_assert_cmpint(run(fx, NULL, &amb, "usb", "show", "0403:6001", NULL), !=, 0);
        assert_has(amb, "hostdev usb show 0403:6001:A10K8ABC or hostdev usb show 1-3.2");
        /* a device number: bad usage, saying why */
        g_assert_cmpint(run(fx, NULL, &bad, "usb", "show", "1:4", NULL), ==, 2);
        assert_has(bad, "change at every replug");
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run(fx, NULL, &err, "usb", "show", "dead:beef", NULL), ==, 1);
        assert_has(err, "hostdev usb list");
}

static void test_cli_guest(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new(TOPOLOGY);
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autofree char *forced = NULL;
        g_autofree char *warn = NULL;
        g_autofree char *json = NULL;
        g_autofree char *xml = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonArray *args;

        g_assert_cmpint(run(fx, &xml, NULL, "usb", "xml", "0529:0001", NULL), ==, 0);
        g_assert_cmpstr(xml, ==,
                        "<hostdev mode='subsystem' type='usb' managed='no'>\n"
                        "  <source startupPolicy='optional'>\n"
                        "    <vendor id='0x0529'/>\n"
                        "    <product id='0x0001'/>\n"
                        "  </source>\n"
                        "</hostdev>\n");
        /* the only keyboard: refused, then given with --force and a warning */
        g_assert_cmpint(run(fx, &out, &err, "usb", "qemu-args", "1-1", NULL), ==, 1);
        g_assert_cmpstr(out, ==, "");
        assert_has(err, "is refused (only-keyboard)");
        assert_has(err, "--force");
        g_assert_cmpint(run(fx, &forced, &warn, "usb", "qemu-args", "1-1", "--force", NULL), ==, 0);
        g_assert_cmpstr(forced, ==,
                        "-device qemu-xhci,id=xhci\n"
                        "-device usb-host,bus=xhci.0,hostbus=1,hostport=1,id=usb-1-1\n");
        assert_has(warn, "warning: 1-1: given with force although 1-1 is the host's only "
                         "keyboard");
        /* --json: args and warnings */
        g_assert_cmpint(
            run(fx, &json, NULL, "usb", "qemu-args", "0403:6001:A10K7XYZ", "--json", NULL), ==, 0);
        root = hd_test_parse_json(json);
        args = json_object_get_array_member(json_node_get_object(root), "args");
        g_assert_cmpuint(json_array_get_length(args), ==, 4);
        g_assert_cmpstr(json_array_get_string_element(args, 3), ==,
                        "usb-host,bus=xhci.0,hostbus=1,hostport=3.1,vendorid=0x0403,"
                        "productid=0x6001,id=usb-1-3.1");
        g_assert_cmpuint(json_array_get_length(
                             json_object_get_array_member(json_node_get_object(root), "warnings")),
                         ==, 1);
        /* --xhci: the guest's controller, checked */
        g_clear_pointer(&out, g_free);
        g_assert_cmpint(
            run(fx, &out, NULL, "usb", "qemu-args", "0529:0001", "--xhci", "usb3", NULL), ==, 0);
        g_assert_cmpstr(out, ==,
                        "-device usb-host,bus=usb3.0,vendorid=0x0529,productid=0x0001,"
                        "id=usb-1-4\n");
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(
            run(fx, NULL, &err, "usb", "qemu-args", "0529:0001", "--xhci", "x,addr=1", NULL), ==,
            2);
        assert_has(err, "--xhci");
        /* a hub even with --force */
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run(fx, NULL, &err, "usb", "xml", "1-3", "--force", NULL), ==, 1);
        assert_has(err, "is a hub");
        /* the same device twice */
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run(fx, NULL, &err, "usb", "xml", "1-4", "0529:0001", NULL), !=, 0);
        assert_has(err, "named twice");
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/usb/inventory", test_inventory);
        g_test_add_func("/usb/inventory-no-usb", test_inventory_no_usb);
        g_test_add_func("/usb/names", test_names);
        g_test_add_func("/usb/spec-valid", test_spec_valid);
        g_test_add_func("/usb/spec-hostile", test_spec_hostile);
        g_test_add_func("/usb/resolve", test_resolve);
        g_test_add_func("/usb/verdicts", test_verdicts);
        g_test_add_func("/usb/second-keyboard", test_second_keyboard);
        g_test_add_func("/usb/storage", test_storage);
        g_test_add_func("/usb/held", test_held);
        g_test_add_func("/usb/guest-xml", test_guest_xml);
        g_test_add_func("/usb/guest-qemu", test_guest_qemu);
        g_test_add_func("/usb/cli-list", test_cli_list);
        g_test_add_func("/usb/cli-show", test_cli_show);
        g_test_add_func("/usb/cli-guest", test_cli_guest);
        return g_test_run();
}
