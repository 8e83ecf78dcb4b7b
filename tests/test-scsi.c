/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SCSI LUNs (src/lib/scsi/scsi.c, `hostdev scsi`): the inventory of the scsi-server fixture,
 * the LUN spec grammar with hostile input, VPD page 0x83, WWID resolution after the adapter
 * number changed, every verdict and what --force, --shareable pass, the exact XML and QEMU
 * arguments, the JSON field names.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"

static int run(const char *root, const char *const *args, char **out, char **err)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

        g_ptr_array_add(argv, (gpointer) "--root");
        g_ptr_array_add(argv, (gpointer)root);
        for (const char *const *a = args; *a; a++)
                g_ptr_array_add(argv, (gpointer)*a);
        g_ptr_array_add(argv, NULL);
        return hd_test_run_cli((const char *const *)argv->pdata, NULL, out, err);
}

static HdScsiDevice *find(GPtrArray *luns, const char *name)
{
        for (guint i = 0; i < luns->len; i++)
                if (strcmp(((HdScsiDevice *)luns->pdata[i])->name, name) == 0)
                        return luns->pdata[i];
        g_assert_not_reached();
        return NULL;
}

static gboolean has(GPtrArray *a, const char *s)
{
        for (guint i = 0; i < a->len; i++)
                if (strcmp(a->pdata[i], s) == 0)
                        return TRUE;
        return FALSE;
}

static HdScsiDevice *resolve(HdCtx *ctx, const char *text, GError **error)
{
        HdScsiSpec spec;

        g_assert_true(hd_scsi_spec_parse(text, &spec, NULL));
        return hd_scsi_resolve(ctx, &spec, error);
}

/* ------------------------------------------------------------------ inventory */

static void test_inventory(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("scsi-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) luns = hd_scsi_list(ctx, &error);
        g_autoptr(HdDevice) hba = NULL;
        HdScsiDevice *d;
        HdAddress a = hd_test_address("0000:00:05.0");

        g_assert_no_error(error);
        /* hostN and targetH:C:T entries are skipped; sorted by H:C:T:L */
        g_assert_cmpuint(luns->len, ==, 8);
        g_assert_cmpstr(((HdScsiDevice *)luns->pdata[0])->name, ==, "0:0:0:0");
        g_assert_cmpstr(((HdScsiDevice *)luns->pdata[7])->name, ==, "2:0:0:0");
        hba = hd_device_load(ctx, &a, HD_FIELD_IOMMU, &error);
        g_assert_no_error(error);

        d = find(luns, "0:0:1:0"); /* the tape */
        g_assert_cmpint(d->type, ==, 1);
        g_assert_cmpstr(d->vendor, ==, "HP"); /* space padding trimmed */
        g_assert_cmpstr(d->model, ==, "Ultrium 6-SCSI");
        g_assert_cmpstr(d->rev, ==, "35GD");
        g_assert_cmpstr(d->state, ==, "running");
        g_assert_cmpstr(d->wwid, ==, "naa.50014380272a1b2c");
        g_assert_cmpstr(d->sg, ==, "sg1");
        g_assert_null(d->block);
        g_assert_cmpuint(d->by_id->len, ==, 0);
        g_assert_cmpstr(d->host, ==, "host0");
        g_assert_cmpstr(d->proc_name, ==, "virtio_scsi");
        g_assert_cmpint(d->unique_id, ==, 0);
        g_assert_cmpstr(d->pci, ==, "0000:00:05.0");
        g_assert_cmpint(d->iommu_group, >=, 0);
        g_assert_cmpint(d->iommu_group, ==, hba->iommu_group);
        g_assert_cmpint(d->verdict, ==, HD_SCSI_ASSIGNABLE);
        g_assert_null(d->reason);
        g_assert_cmpuint(d->warnings->len, ==, 0);

        d = find(luns, "0:0:2:0");
        g_assert_cmpint(d->type, ==, 8);
        {
                char buf[16];
                g_assert_cmpstr(hd_scsi_type_name(d->type, buf), ==, "changer");
                g_assert_cmpstr(hd_scsi_type_name(5, buf), ==, "cd/dvd");
                g_assert_cmpstr(hd_scsi_type_name(0x10, buf), ==, "type 16");
        }

        d = find(luns, "0:0:0:0"); /* the root disk */
        g_assert_cmpstr(d->block, ==, "sda");
        g_assert_cmpuint(d->partitions->len, ==, 3);
        g_assert_true(has(d->partitions, "sda2"));
        g_assert_cmpuint(d->by_id->len, ==, 2);
        g_assert_true(has(d->by_id, "scsi-35000c500a1b2c3d0"));
        g_assert_true(has(d->by_id, "wwn-0x5000c500a1b2c3d0"));
        g_assert_true(has(d->host_use, "/dev/sda2 on /"));
        g_assert_true(has(d->host_use, "/dev/sda3 as swap"));
        g_assert_true(d->root);

        d = find(luns, "0:0:3:0"); /* shared disk: no host use, warnings only */
        g_assert_cmpint(d->verdict, ==, HD_SCSI_ASSIGNABLE);
        g_assert_cmpuint(d->host_use->len, ==, 0);
        g_assert_cmpuint(d->holders->len, ==, 0);
        g_assert_cmpuint(d->warnings->len, ==, 2);
        g_assert_nonnull(strstr(d->warnings->pdata[0], "leaves the sd driver bound to /dev/sdb"));
        g_assert_nonnull(strstr(d->warnings->pdata[1], "scsi-block"));

        d = find(luns, "1:0:0:0"); /* WWID from VPD page 0x83 only */
        g_assert_cmpstr(d->wwid, ==, "naa.500507630f0a1b2c");
        g_assert_cmpstr(d->pci, ==, "0000:3b:00.0");
        g_assert_cmpstr(d->proc_name, ==, "qla2xxx");

        d = find(luns, "2:0:0:0"); /* on the NPIV vport: the nearest hostN, the FC HBA's function */
        g_assert_cmpstr(d->host, ==, "host2");
        g_assert_cmpstr(d->pci, ==, "0000:3b:00.0");
        g_assert_cmpuint(d->held_by->len, ==, 1);
        g_assert_cmpstr(d->held_by->pdata[0], ==,
                        "4242 (qemu-system-x86, VM db1) has /dev/sg7 open");
}

static void test_no_scsi(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) luns = hd_scsi_list(ctx, &error);
        g_autofree char *out = NULL;
        const char *args[] = {"scsi", "list", NULL};

        g_assert_no_error(error);
        g_assert_cmpuint(luns->len, ==, 0);
        g_assert_cmpint(run(fx->root, args, &out, NULL), ==, 0);
        g_assert_nonnull(strstr(out, "No SCSI LUNs"));
}

/* ------------------------------------------------------------------ the grammar */

static void test_spec_valid(void)
{
        static const struct {
                const char *text;
                HdScsiSpecKind kind;
                const char *canonical;
        } cases[] = {
            {"naa.5000c500a1b2c3d4", HD_SCSI_SPEC_WWID, "naa.5000c500a1b2c3d4"},
            {"NAA.5000C500A1B2C3D4", HD_SCSI_SPEC_WWID, "naa.5000c500a1b2c3d4"},
            {"naa.6001405abcdef0123456789abcdef012", HD_SCSI_SPEC_WWID,
             "naa.6001405abcdef0123456789abcdef012"},
            {"eui.0123456789abcdef", HD_SCSI_SPEC_WWID, "eui.0123456789abcdef"},
            {"eui.0123456789abcdef01234567", HD_SCSI_SPEC_WWID, "eui.0123456789abcdef01234567"},
            {"t10.ATA     QEMU HARDDISK   QM00001", HD_SCSI_SPEC_WWID,
             "t10.ATA     QEMU HARDDISK   QM00001"},
            {"/dev/disk/by-id/wwn-0x5000c500a1b2c3d4", HD_SCSI_SPEC_BY_ID,
             "wwn-0x5000c500a1b2c3d4"},
            {"/dev/disk/by-id/scsi-SATA_Samsung_SSD_870_S5Y1NJ0R:0", HD_SCSI_SPEC_BY_ID,
             "scsi-SATA_Samsung_SSD_870_S5Y1NJ0R:0"},
            {"36001405ABCDEF0123456789abcdef012", HD_SCSI_SPEC_WWID,
             "naa.6001405abcdef0123456789abcdef012"},
            {"35000c500a1b2c3d4", HD_SCSI_SPEC_WWID, "naa.5000c500a1b2c3d4"},
            {"20123456789abcdef", HD_SCSI_SPEC_WWID, "eui.0123456789abcdef"},
            {"0:0:1:0", HD_SCSI_SPEC_HCTL, "0:0:1:0"},
            {"[12:0:3:7]", HD_SCSI_SPEC_HCTL, "12:0:3:7"},
            {"4294967295:4294967295:4294967295:18446744073709551615", HD_SCSI_SPEC_HCTL,
             "4294967295:4294967295:4294967295:18446744073709551615"},
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                HdScsiSpec spec;

                g_assert_true(hd_scsi_spec_parse(cases[i].text, &spec, &error));
                g_assert_no_error(error);
                g_assert_cmpint(spec.kind, ==, cases[i].kind);
                g_assert_cmpstr(spec.text, ==, cases[i].canonical);
        }
}

static void test_spec_hostile(void)
{
        g_autofree char *long_naa = g_strnfill(300, 'a');
        g_autofree char *long_t10 = g_strconcat("t10.", long_naa, NULL);
        g_autofree char *long_id = g_strconcat("/dev/disk/by-id/", long_naa, NULL);
        const char *cases[] = {
            "",
            "naa.",
            "naa.123",
            "naa.5000c500a1b2c3d",
            "naa.5000c500a1b2c3d4x",
            "naa.5000c500a1b2c3d4 ",
            " naa.5000c500a1b2c3d4",
            "naa.0x5000c500a1b2c3d4",
            "eui.0123",
            "t10.",
            "t10. leading",
            "t10.ATA\x01QEMU",
            "t10.caf\xc3\xa9",
            "iqn.2003-01.org.linux-iscsi:x",
            "wwn-0x5000c500a1b2c3d4",
            "sda",
            "/dev/sda",
            "/dev/sg0",
            "/dev/disk/by-id/",
            "/dev/disk/by-id/..",
            "/dev/disk/by-id/.",
            "/dev/disk/by-id/../../etc/passwd",
            "/dev/disk/by-id/a/b",
            "/dev/disk/by-id/a b",
            "/dev/disk/by-path/pci-0000:00:05.0-scsi-0:0:1:0",
            "0:0:0",
            "0:0:0:0:0",
            "00:0:0:0",
            "0:0:0:01",
            "-1:0:0:0",
            "+1:0:0:0",
            "4294967296:0:0:0",
            "0:0:0:18446744073709551616",
            "[0:0:0:0",
            "0:0:0:0]",
            "[]",
            "0:0:0:0\n",
            "0 :0:0:0",
            "0::0:0",
            ":0:0:0",
            "0:0:0:",
            "0x1:0:0:0",
            "0000:00:05.0",
            "35000c500a1b2c3d",
            "35000c500a1b2c3d4x",
            "15000c500a1b2c3d4",
            "3",
            "3:0:0:0:0",
            long_t10,
            long_id,
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                HdScsiSpec spec;

                if (hd_scsi_spec_parse(cases[i], &spec, &error))
                        g_error("accepted hostile spec '%s'", cases[i]);
                g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
                g_assert_nonnull(strstr(error->message, "hostdev scsi list"));
                /* never echoes control characters */
                for (const char *p = error->message; *p; p++)
                        g_assert_cmpint((guchar)*p, >=, 0x20);
        }
}

static void test_address_roundtrip(void)
{
        HdScsiAddress a;
        char buf[HD_SCSI_ADDRESS_STRLEN];

        g_assert_true(hd_scsi_address_parse("3:1:22:1099511627776", &a));
        g_assert_cmpuint(a.host, ==, 3);
        g_assert_cmpuint(a.channel, ==, 1);
        g_assert_cmpuint(a.target, ==, 22);
        g_assert_cmpuint(a.lun, ==, G_GUINT64_CONSTANT(1099511627776));
        g_assert_cmpstr(hd_scsi_address_format(&a, buf), ==, "3:1:22:1099511627776");
        g_assert_false(hd_scsi_address_parse("target0:0:1", &a));
        g_assert_false(hd_scsi_address_parse("host0", &a));
}

/* ------------------------------------------------------------------ VPD page 0x83 */

static void test_vpd83(void)
{
        /* T10 first, then an 8-byte NAA, then a 16-byte NAA: the 16-byte NAA wins */
        static const guint8 page[] = {
            0x00, 0x83, 0x00, 0x30, 0x02, 0x01, 0x00, 0x08, 'L',  'I',  'O',  '-',
            'O',  'R',  'G',  ' ',  0x01, 0x03, 0x00, 0x08, 0x50, 0x01, 0x40, 0x50,
            0x00, 0x00, 0x00, 0x01, 0x01, 0x03, 0x00, 0x10, 0x60, 0x01, 0x40, 0x5a,
            0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x12,
        };
        /* a target port designator (association 1) is not the LUN's */
        static const guint8 port_only[] = {
            0x00, 0x83, 0x00, 0x0c, 0x01, 0x13, 0x00, 0x08,
            0x50, 0x01, 0x40, 0x50, 0x00, 0x00, 0x00, 0x02,
        };
        static const guint8 t10_only[] = {
            0x00, 0x83, 0x00, 0x0c, 0x02, 0x01, 0x00, 0x08, 'A', 'T', 'A', ' ', ' ', ' ', ' ', ' ',
        };
        static const guint8 t10_binary[] = {
            0x00, 0x83, 0x00, 0x08, 0x02, 0x01, 0x00, 0x04, 'A', 0x07, 'B', 'C',
        };
        static const guint8 eui[] = {
            0x00, 0x83, 0x00, 0x0c, 0x01, 0x02, 0x00, 0x08,
            0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
        };
        g_autofree char *w1 = hd_scsi_wwid_from_vpd83(page, sizeof(page));
        g_autofree char *w2 = hd_scsi_wwid_from_vpd83(t10_only, sizeof(t10_only));
        g_autofree char *w3 = hd_scsi_wwid_from_vpd83(eui, sizeof(eui));

        g_assert_cmpstr(w1, ==, "naa.6001405abcdef0123456789abcdef012");
        g_assert_cmpstr(w2, ==, "t10.ATA     ");
        g_assert_cmpstr(w3, ==, "eui.0011223344556677");
        g_assert_null(hd_scsi_wwid_from_vpd83(port_only, sizeof(port_only)));
        g_assert_null(hd_scsi_wwid_from_vpd83(t10_binary, sizeof(t10_binary)));
        /* truncated anywhere: never read past the end */
        for (gsize n = 0; n < sizeof(page); n++) {
                g_autofree guint8 *copy = g_memdup2(page, n);
                g_autofree char *w = hd_scsi_wwid_from_vpd83(copy, n);
                /* the best designator that is whole: T10, then the 8-byte NAA */
                if (w && strcmp(w, "t10.LIO-ORG ") != 0)
                        g_assert_cmpstr(w, ==, "naa.5001405000000001");
        }
        g_assert_null(hd_scsi_wwid_from_vpd83(NULL, 0));
        {
                guint8 wrong_page[sizeof(eui)];
                memcpy(wrong_page, eui, sizeof(eui));
                wrong_page[1] = 0x80;
                g_assert_null(hd_scsi_wwid_from_vpd83(wrong_page, sizeof(wrong_page)));
        }
}

/* ------------------------------------------------------------------ resolution */

/* scsi-server with every adapter renumbered (+5: a USB disk and others came first at this
 * boot): the same LUNs, other H in H:C:T:L. */
static HdTestFixture *renumbered_fixture(void)
{
        HdTestFixture *fx = g_new0(HdTestFixture, 1);
        g_autofree char *tmp = hd_test_make_tmp_dir();
        const char *src = g_getenv("HOSTDEV_SOURCE_DIR");
        g_autofree char *script = g_strdup_printf(
            "import json, sys\n"
            "sys.path.insert(0, '%s/tests/fixtures')\n"
            "import mkfixture\n"
            "t = json.load(open('%s/tests/fixtures/topologies/scsi-server.json'))\n"
            "for h in t['scsi']['hosts']:\n"
            "    h['host'] += 5\n"
            "    if h.get('parent_host') is not None: h['parent_host'] += 5\n"
            "for l in t['scsi']['luns']:\n"
            "    p = l['hctl'].split(':'); p[0] = str(int(p[0]) + 5); l['hctl'] = ':'.join(p)\n"
            "mkfixture.build(t, sys.argv[1])\n",
            src, src);
        g_autoptr(GError) error = NULL;
        int status = 0;

        fx->root = g_build_filename(tmp, "root", NULL);
        {
                const char *argv[] = {"python3", "-c", script, fx->root, NULL};
                g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                             &status, &error);
        }
        g_assert_no_error(error);
        g_assert_true(g_spawn_check_wait_status(status, NULL));
        return fx;
}

static void test_resolve_after_renumbering(void)
{
        g_autoptr(HdTestFixture) before = hd_test_fixture_new("scsi-server");
        g_autoptr(HdTestFixture) after = renumbered_fixture();
        g_autoptr(HdCtx) c1 = hd_test_ctx_new(before);
        g_autoptr(HdCtx) c2 = hd_test_ctx_new(after);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdScsiDevice) d1 = resolve(c1, "naa.50014380272a1b2c", &error);
        g_autoptr(HdScsiDevice) d2 = NULL;
        g_autoptr(HdScsiDevice) by_id = NULL;
        g_autoptr(HdScsiDevice) vpd = NULL;
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        const char *xml[] = {"scsi", "xml", "naa.50014380272A1B2C", NULL};
        const char *xml_hctl[] = {"scsi", "xml", "0:0:1:0", NULL};

        g_assert_no_error(error);
        g_assert_cmpstr(d1->name, ==, "0:0:1:0");
        d2 = resolve(c2, "naa.50014380272a1b2c", &error);
        g_assert_no_error(error);
        g_assert_cmpstr(d2->name, ==, "5:0:1:0");
        g_assert_cmpstr(d2->host, ==, "host5");
        g_assert_cmpstr(d2->sg, ==, "sg1");
        by_id = resolve(c2, "/dev/disk/by-id/wwn-0x6001405abcdef0123456789abcdef012", &error);
        g_assert_no_error(error);
        g_assert_cmpstr(by_id->name, ==, "5:0:3:0");
        vpd = resolve(c2, "naa.500507630F0A1B2C", &error); /* from the VPD page */
        g_assert_no_error(error);
        g_assert_cmpstr(vpd->name, ==, "6:0:0:0");

        /* the configuration made now names the adapter it has now */
        g_assert_cmpint(run(after->root, xml, &out, NULL), ==, 0);
        g_assert_nonnull(strstr(out, "<adapter name='scsi_host5'/>"));
        g_clear_pointer(&out, g_free);
        /* the old H:C:T:L is gone: said so, not another LUN taken */
        g_assert_cmpint(run(after->root, xml_hctl, &out, &err), ==, 1);
        g_assert_nonnull(strstr(err, "no SCSI LUN 0:0:1:0"));
}

static void test_resolve_refusals(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("scsi-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autofree char *wwid = hd_test_path(fx, "sys/bus/scsi/devices/0:0:2:0/wwid");
        HdScsiDevice *d;

        /* unknown WWID */
        g_assert_null(resolve(ctx, "naa.5000000000000000", &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        g_assert_nonnull(strstr(error->message, "no SCSI LUN has WWID naa.5000000000000000"));
        g_clear_error(&error);
        /* a by-id name that does not exist, one that points at a partition */
        g_assert_null(resolve(ctx, "/dev/disk/by-id/nothing", &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        g_clear_error(&error);
        {
                g_autofree char *link = hd_test_path(fx, "dev/disk/by-id/scsi-x-part1");
                g_assert_cmpint(symlink("../../sda1", link), ==, 0);
                g_assert_null(resolve(ctx, "/dev/disk/by-id/scsi-x-part1", &error));
                g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
                g_assert_nonnull(strstr(error->message, "points at sda1, which is not a SCSI LUN"));
                g_clear_error(&error);
        }
        /* a by-id link leading out of the root is resolved inside it */
        {
                g_autofree char *link = hd_test_path(fx, "dev/disk/by-id/escape");
                g_assert_cmpint(symlink("../../../../../../../../dev/sda", link), ==, 0);
                d = resolve(ctx, "/dev/disk/by-id/escape", &error);
                g_assert_no_error(error); /* the tree's own sda */
                g_assert_cmpstr(d->name, ==, "0:0:0:0");
                hd_scsi_device_free(d);
        }
        /* one WWID on two paths (multipath): refused naming both */
        g_assert_true(g_file_set_contents(wwid, "naa.50014380272a1b2c\n", -1, NULL));
        g_assert_null(resolve(ctx, "naa.50014380272a1b2c", &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, "seen on 2 paths (0:0:1:0, 0:0:2:0)"));
        g_clear_error(&error);
        /* t10 ids: runs of spaces and trailing ones as udev and the kernel differ */
        g_assert_true(
            g_file_set_contents(wwid, "t10.HP      MSL G3 Series   E.00    \n", -1, NULL));
        d = resolve(ctx, "t10.HP MSL G3 Series E.00", &error);
        g_assert_no_error(error);
        g_assert_cmpstr(d->name, ==, "0:0:2:0");
        hd_scsi_device_free(d);
}

/* ------------------------------------------------------------------ verdicts */

static void assert_check(HdCtx *ctx, const char *spec, gboolean force, gboolean shareable,
                         GQuark domain, int code, const char *needle)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdScsiDevice) d = resolve(ctx, spec, &error);
        HdScsiGuestOptions opts = {.force = force, .shareable = shareable};
        gboolean ok;

        g_assert_no_error(error);
        ok = hd_scsi_check(ctx, d, spec, &opts, &error);
        if (!needle) {
                g_assert_no_error(error);
                g_assert_true(ok);
                return;
        }
        g_assert_false(ok);
        g_assert_error(error, domain, code);
        if (!strstr(error->message, needle))
                g_error("'%s' not in '%s'", needle, error->message);
}

static void test_verdicts(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("scsi-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) luns = hd_scsi_list(ctx, &error);
        HdScsiDevice *d;

        g_assert_no_error(error);
        d = find(luns, "0:0:0:0");
        g_assert_cmpint(d->verdict, ==, HD_SCSI_REFUSED);
        g_assert_nonnull(strstr(d->reason, "holds the host's root filesystem"));
        d = find(luns, "0:0:4:0");
        g_assert_cmpint(d->verdict, ==, HD_SCSI_REFUSED);
        g_assert_cmpuint(d->holders->len, ==, 1);
        g_assert_cmpstr(d->holders->pdata[0], ==, "dm-0 (LVM vg_data-lv_data)");
        g_assert_cmpstr(d->reason, ==, "the host uses it: held by dm-0 (LVM vg_data-lv_data)");
        d = find(luns, "0:0:5:0");
        g_assert_cmpint(d->verdict, ==, HD_SCSI_REFUSED);
        g_assert_cmpstr(d->reason, ==, "the host uses it: /dev/sdd1 on /srv");
        d = find(luns, "2:0:0:0");
        g_assert_cmpint(d->verdict, ==, HD_SCSI_IN_USE);

        /* the root filesystem: nothing passes it */
        assert_check(ctx, "naa.5000c500a1b2c3d0", FALSE, FALSE, HD_ERROR, HD_ERROR_REFUSED,
                     "holds the host's root filesystem");
        assert_check(ctx, "naa.5000c500a1b2c3d0", TRUE, TRUE, HD_ERROR, HD_ERROR_REFUSED,
                     "nothing overrides that");
        /* LVM, a mount: refused, --force passes */
        assert_check(ctx, "naa.5000c500a1b2c3d4", FALSE, FALSE, HD_ERROR, HD_ERROR_REFUSED,
                     "naa.5000c500a1b2c3d4 (0:0:4:0, sdc): the host uses it: held by dm-0 (LVM "
                     "vg_data-lv_data); unmount it, swapoff, or take it out of its volume group, "
                     "multipath map or array first, or pass --force");
        assert_check(ctx, "naa.5000c500a1b2c3d4", TRUE, FALSE, 0, 0, NULL);
        assert_check(ctx, "/dev/disk/by-id/scsi-35000c500a1b2c3d5", FALSE, FALSE, HD_ERROR,
                     HD_ERROR_REFUSED, "/dev/sdd1 on /srv");
        assert_check(ctx, "/dev/disk/by-id/scsi-35000c500a1b2c3d5", FALSE, TRUE, HD_ERROR,
                     HD_ERROR_REFUSED, "/dev/sdd1 on /srv");
        assert_check(ctx, "/dev/disk/by-id/scsi-35000c500a1b2c3d5", TRUE, FALSE, 0, 0, NULL);
        /* held open by a VM: busy, naming it; --shareable or --force pass */
        assert_check(ctx, "naa.600a098038303053453f463045727a31", FALSE, FALSE, HD_ERROR,
                     HD_ERROR_BUSY, "4242 (qemu-system-x86, VM db1) has /dev/sg7 open");
        assert_check(ctx, "naa.600a098038303053453f463045727a31", FALSE, TRUE, 0, 0, NULL);
        assert_check(ctx, "naa.600a098038303053453f463045727a31", TRUE, FALSE, 0, 0, NULL);
        /* the tape and the changer */
        assert_check(ctx, "naa.50014380272a1b2c", FALSE, FALSE, 0, 0, NULL);
        assert_check(ctx, "naa.50014380272a1b2f", FALSE, FALSE, 0, 0, NULL);
}

static void test_verdicts_swap_multipath_nosg(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("scsi-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autofree char *mounts = hd_test_path(fx, "proc/mounts");
        g_autofree char *swaps = hd_test_path(fx, "proc/swaps");
        g_autofree char *dm = hd_test_path(fx, "sys/devices/virtual/block/dm-1");
        g_autofree char *dm_dir = g_build_filename(dm, "dm", NULL);
        g_autofree char *dm_name = g_build_filename(dm_dir, "name", NULL);
        g_autofree char *dm_uuid = g_build_filename(dm_dir, "uuid", NULL);
        g_autofree char *cls = hd_test_path(fx, "sys/class/block/dm-1");
        g_autofree char *holders = hd_test_path(fx, "sys/class/block/sdb/holders");
        g_autofree char *holder = g_build_filename(holders, "dm-1", NULL);
        g_autofree char *sg = hd_test_path(fx, "sys/bus/scsi/devices/0:0:1:0/scsi_generic");
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", sg);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) luns = NULL;
        HdScsiDevice *d;

        /* sdd1 becomes swap instead of /srv */
        g_assert_true(g_file_set_contents(mounts, "/dev/sda2 / ext4 rw 0 0\n", -1, NULL));
        g_assert_true(g_file_set_contents(
            swaps, "Filename\tType\tSize\tUsed\tPriority\n/dev/sdd1 partition 8388604 0 -2\n", -1,
            NULL));
        /* sdb under a multipath map */
        g_assert_cmpint(g_mkdir_with_parents(dm_dir, 0755), ==, 0);
        g_assert_cmpint(g_mkdir_with_parents(holders, 0755), ==, 0);
        g_assert_true(g_file_set_contents(dm_name, "mpatha\n", -1, NULL));
        g_assert_true(
            g_file_set_contents(dm_uuid, "mpath-36001405abcdef0123456789abcdef012\n", -1, NULL));
        g_assert_cmpint(symlink("../../devices/virtual/block/dm-1", cls), ==, 0);
        g_assert_cmpint(symlink("../../../../../../../../../virtual/block/dm-1", holder), ==, 0);
        /* the tape without the sg module */
        g_assert_cmpint(system(cmd), ==, 0);

        luns = hd_scsi_list(ctx, &error);
        g_assert_no_error(error);
        d = find(luns, "0:0:5:0");
        g_assert_cmpint(d->verdict, ==, HD_SCSI_REFUSED);
        g_assert_cmpstr(d->reason, ==, "the host uses it: /dev/sdd1 as swap");
        d = find(luns, "0:0:3:0");
        g_assert_cmpint(d->verdict, ==, HD_SCSI_REFUSED);
        g_assert_cmpstr(d->reason, ==, "the host uses it: held by dm-1 (multipath mpatha)");
        d = find(luns, "0:0:1:0");
        g_assert_null(d->sg);
        g_assert_cmpint(d->verdict, ==, HD_SCSI_NOT_ASSIGNABLE);
        g_assert_nonnull(strstr(d->reason, "modprobe sg"));
        assert_check(ctx, "naa.50014380272a1b2c", TRUE, TRUE, HD_ERROR, HD_ERROR_NOT_SUPPORTED,
                     "has no sg node");
        assert_check(ctx, "naa.6001405abcdef0123456789abcdef012", FALSE, FALSE, HD_ERROR,
                     HD_ERROR_REFUSED, "multipath mpatha");
}

/* ------------------------------------------------------------------ the CLI */

static void test_cli_xml_qemu_exact(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("scsi-server");
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        const char *xml[] = {"scsi", "xml", "naa.50014380272a1b2c",
                             "/dev/disk/by-id/wwn-0x6001405abcdef0123456789abcdef012", NULL};
        const char *xml_shared[] = {
            "scsi", "xml", "--shareable", "--readonly", "naa.600a098038303053453f463045727a31",
            NULL};
        const char *qemu[] = {"scsi", "qemu-args", "naa.50014380272a1b2c", "naa.50014380272a1b2f",
                              NULL};
        const char *qemu_hctl[] = {"scsi", "qemu-args", "--shareable", "2:0:0:0", NULL};

        g_assert_cmpint(run(fx->root, xml, &out, &err), ==, 0);
        g_assert_cmpstr(out, ==,
                        "<hostdev mode='subsystem' type='scsi' managed='no' rawio='yes'>\n"
                        "  <source>\n"
                        "    <adapter name='scsi_host0'/>\n"
                        "    <address bus='0' target='1' unit='0'/>\n"
                        "  </source>\n"
                        "</hostdev>\n"
                        "<hostdev mode='subsystem' type='scsi' managed='no' rawio='yes'>\n"
                        "  <source>\n"
                        "    <adapter name='scsi_host0'/>\n"
                        "    <address bus='0' target='3' unit='0'/>\n"
                        "  </source>\n"
                        "</hostdev>\n");
        /* the shared disk's warnings go to stderr, the tape has none */
        g_assert_nonnull(strstr(err,
                                "warning: /dev/disk/by-id/wwn-0x6001405abcdef0123456789abcdef012: "
                                "scsi-generic leaves the sd driver bound to /dev/sdb"));
        g_assert_null(strstr(err, "naa.50014380272a1b2c"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        g_assert_cmpint(run(fx->root, xml_shared, &out, &err), ==, 0);
        g_assert_cmpstr(out, ==,
                        "<hostdev mode='subsystem' type='scsi' managed='no' rawio='yes'>\n"
                        "  <source>\n"
                        "    <adapter name='scsi_host2'/>\n"
                        "    <address bus='0' target='0' unit='0'/>\n"
                        "  </source>\n"
                        "  <readonly/>\n"
                        "  <shareable/>\n"
                        "</hostdev>\n");
        g_assert_nonnull(strstr(err, "is in-use (held open: 4242 (qemu-system-x86, VM db1) has "
                                     "/dev/sg7 open), passed as asked"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        g_assert_cmpint(run(fx->root, qemu, &out, &err), ==, 0);
        g_assert_cmpstr(out, ==,
                        "-blockdev '{\"driver\":\"host_device\",\"filename\":\"/dev/sg1\","
                        "\"node-name\":\"hostdev-sg1\"}'\n"
                        "-blockdev '{\"driver\":\"host_device\",\"filename\":\"/dev/sg2\","
                        "\"node-name\":\"hostdev-sg2\"}'\n"
                        "-device virtio-scsi-pci,id=hostdev-scsi0\n"
                        "-device scsi-generic,bus=hostdev-scsi0.0,drive=hostdev-sg1\n"
                        "-device scsi-generic,bus=hostdev-scsi0.0,drive=hostdev-sg2\n");
        g_assert_cmpstr(err, ==, "");
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        g_assert_cmpint(run(fx->root, qemu_hctl, &out, &err), ==, 0);
        g_assert_nonnull(strstr(out, "-device scsi-generic,bus=hostdev-scsi0.0,drive=hostdev-sg7,"
                                     "share-rw=on\n"));
        g_assert_nonnull(strstr(err, "warning: 2:0:0:0: 2:0:0:0 names the LUN by its adapter "
                                     "number (host2), which changes at reboot and hotplug; name "
                                     "it by its WWID: naa.600a098038303053453f463045727a31\n"));
}

static void test_cli_refusals(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("scsi-server");
        static const struct {
                const char *args[6];
                int code;
                const char *needle;
        } cases[] = {
            {{"scsi", "xml", "naa.5000c500a1b2c3d0", NULL}, 1, "root filesystem"},
            {{"scsi", "xml", "--force", "naa.5000c500a1b2c3d0", NULL}, 1, "nothing overrides that"},
            {{"scsi", "xml", "naa.5000c500a1b2c3d4", NULL}, 1, "or pass --force"},
            {{"scsi", "qemu-args", "0:0:5:0", NULL}, 1, "/dev/sdd1 on /srv"},
            {{"scsi", "qemu-args", "2:0:0:0", NULL}, 1, "one owner at a time"},
            {{"scsi", "xml", "naa.50014380272a1b2c", "0:0:1:0", NULL},
             2,
             "names LUN 0:0:1:0 a second time"},
            {{"scsi", "xml", "naa.bad", NULL}, 2, "does not name a SCSI LUN"},
            {{"scsi", "show", "0:0:9:0", NULL}, 1, "no SCSI LUN 0:0:9:0"},
            {{"scsi", "frobnicate", NULL}, 2, "not list, show, xml or qemu-args"},
            {{"scsi", NULL}, 2, "say list, show, xml or qemu-args"},
            {{"scsi", "list", "--force", NULL}, 2, "go with xml and qemu-args"},
            {{"scsi", "show", NULL}, 2, "show takes exactly one LUN"},
            {{"scsi", "xml", NULL}, 2, "name at least one LUN"},
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *out = NULL;
                g_autofree char *err = NULL;
                int rc = run(fx->root, cases[i].args, &out, &err);

                if (rc != cases[i].code || !strstr(err, cases[i].needle))
                        g_error("case %u: rc %d, stderr: %s", i, rc, err);
        }
        {
                g_autofree char *out = NULL;
                const char *forced[] = {"scsi", "xml", "--force", "naa.5000c500a1b2c3d4", NULL};
                g_assert_cmpint(run(fx->root, forced, &out, NULL), ==, 0);
                g_assert_nonnull(strstr(out, "<address bus='0' target='4' unit='0'/>"));
        }
}

static void assert_members(JsonObject *o, const char *const *names)
{
        g_autoptr(GList) members = json_object_get_members(o);
        guint n = 0;

        for (const char *const *p = names; *p; p++, n++)
                if (!json_object_has_member(o, *p))
                        g_error("member %s missing", *p);
        g_assert_cmpuint(g_list_length(members), ==, n);
}

static void test_cli_json(void)
{
        static const char *const lun_fields[] = {
            "hctl",        "type",        "type_name",
            "vendor",      "model",       "rev",
            "state",       "wwid",        "sg",
            "block",       "partitions",  "by_id",
            "scsi_host",   "proc_name",   "unique_id",
            "pci_address", "iommu_group", "host_use",
            "holders",     "held_by",     "root_filesystem",
            "verdict",     "reason",      "warnings",
            NULL,
        };
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("scsi-server");
        g_autofree char *out = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonArray *luns;
        JsonObject *o;
        const char *list[] = {"scsi", "list", "--json", NULL};
        const char *show[] = {"scsi", "show", "--json", "/dev/disk/by-id/scsi-35000c500a1b2c3d4",
                              NULL};
        const char *xml[] = {"scsi", "xml", "--json", "0:0:2:0", NULL};
        const char *qemu[] = {"scsi", "qemu-args", "--json", "naa.50014380272a1b2f", NULL};
        const char *bad[] = {"scsi", "show", "--json", "naa.0", NULL};

        g_assert_cmpint(run(fx->root, list, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        luns = json_object_get_array_member(json_node_get_object(root), "luns");
        g_assert_cmpuint(json_array_get_length(luns), ==, 8);
        for (guint i = 0; i < json_array_get_length(luns); i++)
                assert_members(json_array_get_object_element(luns, i), lun_fields);
        o = json_array_get_object_element(luns, 1);
        g_assert_cmpstr(json_object_get_string_member(o, "hctl"), ==, "0:0:1:0");
        g_assert_cmpstr(json_object_get_string_member(o, "type_name"), ==, "tape");
        g_assert_true(json_object_get_null_member(o, "block"));
        g_assert_true(json_object_get_null_member(o, "reason"));
        g_assert_cmpstr(json_object_get_string_member(o, "verdict"), ==, "assignable");
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&root, json_node_unref);

        g_assert_cmpint(run(fx->root, show, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        o = json_node_get_object(root);
        assert_members(o, lun_fields);
        g_assert_cmpstr(json_object_get_string_member(o, "verdict"), ==, "refused");
        g_assert_cmpstr(
            json_array_get_string_element(json_object_get_array_member(o, "holders"), 0), ==,
            "dm-0 (LVM vg_data-lv_data)");
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&root, json_node_unref);

        g_assert_cmpint(run(fx->root, xml, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        o = json_node_get_object(root);
        {
                static const char *const top[] = {"hostdev_xml", "luns", NULL};
                static const char *const item[] = {"spec", "hctl", "wwid", "sg", "warnings", NULL};
                JsonObject *l =
                    json_array_get_object_element(json_object_get_array_member(o, "luns"), 0);
                assert_members(o, top);
                assert_members(l, item);
                g_assert_cmpstr(json_object_get_string_member(l, "wwid"), ==,
                                "naa.50014380272a1b2f");
                g_assert_cmpuint(json_array_get_length(json_object_get_array_member(l, "warnings")),
                                 ==, 1); /* named by H:C:T:L */
                g_assert_nonnull(strstr(json_object_get_string_member(o, "hostdev_xml"),
                                        "<address bus='0' target='2' unit='0'/>"));
        }
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&root, json_node_unref);

        g_assert_cmpint(run(fx->root, qemu, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        o = json_node_get_object(root);
        {
                JsonArray *args = json_object_get_array_member(o, "args");
                g_assert_cmpuint(json_array_get_length(args), ==, 6);
                g_assert_cmpstr(json_array_get_string_element(args, 1), ==,
                                "{\"driver\":\"host_device\",\"filename\":\"/dev/sg2\","
                                "\"node-name\":\"hostdev-sg2\"}");
        }
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&root, json_node_unref);

        g_assert_cmpint(run(fx->root, bad, &out, NULL), ==, 2);
        root = hd_test_parse_json(out);
        o = json_object_get_object_member(json_node_get_object(root), "error");
        g_assert_cmpstr(json_object_get_string_member(o, "code"), ==, "invalid-argument");
}

/* ------------------------------------------------------------------ NPIV */

static void test_npiv_wwn(void)
{
        static const struct {
                const char *text;
                guint64 value;
        } good[] = {
            {"2001001122334455", G_GUINT64_CONSTANT(0x2001001122334455)},
            {"0x2001001122334455", G_GUINT64_CONSTANT(0x2001001122334455)},
            {"20:01:00:11:22:33:44:55", G_GUINT64_CONSTANT(0x2001001122334455)},
            {"ABCDEF0123456789", G_GUINT64_CONSTANT(0xabcdef0123456789)},
        };
        const char *bad[] = {"",
                             "0",
                             "0000000000000000",
                             "0x0000000000000000",
                             "200100112233445",
                             "20010011223344550",
                             "200100112233445g",
                             "0x20:01:00:11:22:33:44:55",
                             "20:01:00:11:22:33:44",
                             "20-01-00-11-22-33-44-55",
                             "2001:0011:2233:4455",
                             " 2001001122334455",
                             "2001001122334455\n",
                             "-001001122334455"};
        char buf[19];

        for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
                guint64 v = 0;
                g_autoptr(GError) error = NULL;
                g_assert_true(hd_npiv_wwn_parse(good[i].text, "--wwpn", &v, &error));
                g_assert_no_error(error);
                g_assert_cmpuint(v, ==, good[i].value);
        }
        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                guint64 v = 0;
                g_autoptr(GError) error = NULL;
                if (hd_npiv_wwn_parse(bad[i], "--wwpn", &v, &error))
                        g_error("accepted WWN '%s'", bad[i]);
                g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
                g_assert_true(g_str_has_prefix(error->message, "--wwpn "));
        }
        g_assert_cmpstr(hd_npiv_wwn_format(G_GUINT64_CONSTANT(0x2001001122334455), buf), ==,
                        "0x2001001122334455");
        g_assert_cmpstr(hd_npiv_wwn_format(1, buf), ==, "0x0000000000000001");
}

static gboolean tree_has(const HdTestFixture *fx, const char *rel)
{
        g_autofree char *path = hd_test_path(fx, rel);

        return g_file_test(path, G_FILE_TEST_EXISTS);
}

static void tree_set(const HdTestFixture *fx, const char *rel, const char *text)
{
        g_autofree char *path = hd_test_path(fx, rel);

        g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static HdFcHost *fc_host(GPtrArray *hosts, const char *name)
{
        for (guint i = 0; i < hosts->len; i++)
                if (strcmp(((HdFcHost *)hosts->pdata[i])->host, name) == 0)
                        return hosts->pdata[i];
        return NULL;
}

static void test_npiv_list(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("scsi-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) hosts = hd_fc_host_list(ctx, &error);
        g_autoptr(GPtrArray) vports = hd_fc_vport_list(ctx, &error);
        HdFcHost *h;
        HdFcVport *v;

        g_assert_no_error(error);
        g_assert_cmpuint(hosts->len, ==, 2);
        h = fc_host(hosts, "host1");
        g_assert_cmpstr(h->port_name, ==, "0x21000024ff3dc9a0");
        g_assert_cmpstr(h->node_name, ==, "0x20000024ff3dc9a0");
        g_assert_cmpstr(h->port_state, ==, "Online");
        g_assert_cmpint(h->max_npiv_vports, ==, 254);
        g_assert_cmpint(h->npiv_vports_inuse, ==, 1);
        g_assert_true(h->vport_create);
        g_assert_cmpstr(h->proc_name, ==, "qla2xxx");
        g_assert_cmpstr(h->pci, ==, "0000:3b:00.0");
        g_assert_null(h->vport);
        h = fc_host(hosts, "host2");
        g_assert_cmpstr(h->vport, ==, "vport-1:0-0");
        g_assert_cmpstr(h->parent, ==, "host1");
        g_assert_false(h->vport_create);
        g_assert_cmpuint(vports->len, ==, 1);
        v = vports->pdata[0];
        g_assert_cmpstr(v->name, ==, "vport-1:0-0");
        g_assert_cmpstr(v->parent, ==, "host1");
        g_assert_cmpstr(v->host, ==, "host2");
        g_assert_cmpstr(v->port_name, ==, "0x2001001122334455");
        g_assert_cmpstr(v->vport_state, ==, "Active");
        g_assert_cmpstr(v->vport_type, ==, "NPIV VPORT");
        g_assert_cmpstr(v->roles, ==, "FCP Initiator");
        {
                /* no FC at all */
                g_autoptr(HdTestFixture) desk = hd_test_fixture_new("desktop");
                g_autoptr(HdCtx) c2 = hd_test_ctx_new(desk);
                g_autoptr(GPtrArray) none = hd_fc_host_list(c2, &error);
                g_autoptr(GPtrArray) no_vports = hd_fc_vport_list(c2, &error);
                g_assert_no_error(error);
                g_assert_cmpuint(none->len, ==, 0);
                g_assert_cmpuint(no_vports->len, ==, 0);
        }
}

static void test_npiv_create_delete(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("scsi-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdFcVport) v = NULL;
        g_autoptr(HdFcHost) parent = NULL;
        g_autoptr(GPtrArray) luns = NULL;
        const guint64 wwpn = G_GUINT64_CONSTANT(0x2001001122334466);
        const guint64 wwnn = G_GUINT64_CONSTANT(0x2000001122334466);

        /* a dry run writes nothing, and says what it would write */
        hd_ctx_set_dry_run(ctx, TRUE);
        g_assert_true(hd_npiv_create(ctx, "host1", wwpn, wwnn, FALSE, &v, &error));
        g_assert_no_error(error);
        g_assert_null(v);
        {
                const GPtrArray *log = hd_ctx_get_write_log(ctx);
                g_autofree char *w = NULL;
                g_assert_cmpuint(log->len, ==, 1);
                w = hd_ctx_write_describe(log->pdata[0]);
                g_assert_cmpstr(w, ==,
                                "write '2001001122334466:2000001122334466' to "
                                "/sys/class/fc_host/host1/vport_create");
        }
        g_assert_false(tree_has(fx, "sys/class/fc_vports/vport-1:0-1"));
        hd_ctx_set_dry_run(ctx, FALSE);

        /* made: the vport, its vHBA with a SCSI host of its own, the parent's count */
        g_assert_true(hd_npiv_create(ctx, "1", wwpn, wwnn, FALSE, &v, &error));
        g_assert_no_error(error);
        g_assert_nonnull(v);
        g_assert_cmpstr(v->name, ==, "vport-1:0-1");
        g_assert_cmpstr(v->parent, ==, "host1");
        g_assert_cmpstr(v->host, ==, "host3");
        g_assert_cmpstr(v->port_name, ==, "0x2001001122334466");
        g_assert_cmpstr(v->node_name, ==, "0x2000001122334466");
        g_assert_cmpstr(v->vport_state, ==, "Active");
        parent = hd_fc_host_find(ctx, "host1", &error);
        g_assert_no_error(error);
        g_assert_cmpint(parent->npiv_vports_inuse, ==, 2);
        {
                g_autoptr(HdFcHost) vh = hd_fc_host_find(ctx, "host3", &error);
                g_assert_no_error(error);
                g_assert_cmpstr(vh->vport, ==, "vport-1:0-1");
                g_assert_cmpstr(vh->parent, ==, "host1");
                g_assert_cmpstr(vh->port_type, ==, "NPIV VPORT");
                g_assert_cmpstr(vh->proc_name, ==, "qla2xxx");
                g_assert_cmpstr(vh->pci, ==, "0000:3b:00.0");
                g_assert_true(tree_has(fx, "sys/bus/scsi/devices/host3/scsi_host/host3/unique_id"));
        }

        /* the rules: the same WWPN again, a WWPN equal to its WWNN, a node name reused as a
         * port name, a vHBA as parent, a port without NPIV, a full port */
        g_assert_false(hd_npiv_create(ctx, "host1", wwpn, G_GUINT64_CONSTANT(0x2000001122334477),
                                      FALSE, NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        g_assert_nonnull(strstr(error->message, "already the port name of host3"));
        g_clear_error(&error);
        g_assert_false(hd_npiv_create(ctx, "host1", G_GUINT64_CONSTANT(0x20000024ff3dc9a0),
                                      G_GUINT64_CONSTANT(0x2000001122334477), FALSE, NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        g_assert_nonnull(strstr(error->message, "already the node name of host1"));
        g_clear_error(&error);
        g_assert_false(
            hd_npiv_create(ctx, "host1", wwnn + 0x100, wwnn + 0x100, FALSE, NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        g_assert_false(hd_npiv_create(ctx, "host3", wwpn + 1, wwnn + 1, FALSE, NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        g_assert_nonnull(strstr(error->message, "hostdev npiv create host1"));
        g_clear_error(&error);
        g_assert_false(hd_npiv_create(ctx, "host0", wwpn + 1, wwnn + 1, FALSE, NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        g_assert_nonnull(strstr(error->message, "sys/class/fc_host has host1, host2, host3"));
        g_clear_error(&error);
        g_assert_false(hd_npiv_create(ctx, "../host1", wwpn + 1, wwnn + 1, FALSE, NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        tree_set(fx, "sys/class/fc_host/host1/npiv_vports_inuse", "254\n");
        g_assert_false(hd_npiv_create(ctx, "host1", wwpn + 1, wwnn + 1, FALSE, NULL, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        g_assert_nonnull(strstr(error->message, "has 254 of 254 vports in use"));
        g_clear_error(&error);
        /* the sim refuses what the kernel refuses, whatever the caller checked */
        g_assert_false(hd_ctx_write(ctx, "sys/class/fc_host/host1/vport_create",
                                    "2001001122334477:2000001122334477", &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
        g_clear_error(&error);
        tree_set(fx, "sys/class/fc_host/host1/npiv_vports_inuse", "2\n");
        {
                static const char *const malformed[] = {
                    "2001001122334477",
                    "2001001122334477-2000001122334477",
                    "2001001122334477:200000112233447",
                    "0000000000000000:2000001122334477",
                    "2001001122334477:2001001122334477",
                    "200100112233447g:2000001122334477",
                };
                for (guint i = 0; i < G_N_ELEMENTS(malformed); i++) {
                        g_assert_false(hd_ctx_write(ctx, "sys/class/fc_host/host1/vport_create",
                                                    malformed[i], &error));
                        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
                        g_clear_error(&error);
                }
        }
        g_assert_false(hd_ctx_write(ctx, "sys/class/fc_host/host1/vport_create",
                                    "2001001122334466:2000001122334499\n", &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS);
        g_clear_error(&error);

        /* delete: the vport with LUNs a VM holds is refused, then forced; the new one by its
         * vHBA's name */
        g_assert_false(hd_npiv_delete(ctx, "vport-1:0-0", FALSE, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_REFUSED);
        g_assert_nonnull(
            strstr(error->message, "2:0:0:0 held open: 4242 (qemu-system-x86, VM db1)"));
        g_clear_error(&error);
        g_assert_true(hd_npiv_delete(ctx, "host3", FALSE, &error));
        g_assert_no_error(error);
        g_assert_false(tree_has(fx, "sys/class/scsi_host/host3"));
        g_assert_true(hd_npiv_delete(ctx, "0x2001001122334455", TRUE, &error));
        g_assert_no_error(error);
        luns = hd_scsi_list(ctx, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(luns->len, ==, 7); /* 2:0:0:0 went with its vHBA */
        {
                g_autoptr(GPtrArray) vports = hd_fc_vport_list(ctx, &error);
                g_autoptr(HdFcHost) p2 = hd_fc_host_find(ctx, "host1", &error);
                g_assert_no_error(error);
                g_assert_cmpuint(vports->len, ==, 0);
                g_assert_cmpint(p2->npiv_vports_inuse, ==, 0);
                g_assert_false(tree_has(fx, "sys/bus/scsi/devices/host2"));
        }
        g_assert_false(hd_npiv_delete(ctx, "vport-1:0-0", TRUE, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        g_clear_error(&error);
        g_assert_false(hd_ctx_write(ctx, "sys/class/fc_host/host1/vport_delete",
                                    "2001001122334455:2000001122334455", &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void test_npiv_cli(void)
{
        static const char *const host_fields[] = {
            "host",
            "port_name",
            "node_name",
            "port_state",
            "port_type",
            "max_npiv_vports",
            "npiv_vports_inuse",
            "vport_create",
            "proc_name",
            "pci_address",
            "vport",
            "parent",
            "luns",
            NULL,
        };
        static const char *const vport_fields[] = {"name",       "parent",    "host",
                                                   "port_name",  "node_name", "vport_state",
                                                   "vport_type", "roles",     NULL};
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("scsi-server");
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autoptr(JsonNode) root = NULL;
        JsonObject *o;
        JsonArray *a;
        const char *list[] = {"npiv", "list", "--json", NULL};
        const char *create[] = {"npiv",
                                "create",
                                "host1",
                                "--wwpn",
                                "20:01:00:11:22:33:44:66",
                                "--wwnn",
                                "0x2000001122334466",
                                "--json",
                                NULL};
        const char *zero[] = {"npiv",   "create",           "host1", "--wwpn", "0000000000000000",
                              "--wwnn", "2000001122334466", NULL};
        const char *no_wwnn[] = {"npiv", "create", "host1", "--wwpn", "2001001122334466", NULL};
        const char *busy[] = {"npiv", "delete", "vport-1:0-0", NULL};
        const char *forced[] = {"npiv", "delete", "vport-1:0-0", "--force", NULL};

        g_assert_cmpint(run(fx->root, list, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        o = json_node_get_object(root);
        a = json_object_get_array_member(o, "fc_hosts");
        g_assert_cmpuint(json_array_get_length(a), ==, 2);
        for (guint i = 0; i < 2; i++)
                assert_members(json_array_get_object_element(a, i), host_fields);
        g_assert_cmpstr(
            json_array_get_string_element(
                json_object_get_array_member(json_array_get_object_element(a, 1), "luns"), 0),
            ==, "2:0:0:0");
        a = json_object_get_array_member(o, "vports");
        g_assert_cmpuint(json_array_get_length(a), ==, 1);
        assert_members(json_array_get_object_element(a, 0), vport_fields);
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&root, json_node_unref);

        g_assert_cmpint(run(fx->root, create, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        o = json_object_get_object_member(json_node_get_object(root), "vport");
        assert_members(o, vport_fields);
        g_assert_cmpstr(json_object_get_string_member(o, "host"), ==, "host3");
        g_clear_pointer(&out, g_free);

        g_assert_cmpint(run(fx->root, zero, NULL, &err), ==, 2);
        g_assert_nonnull(strstr(err, "--wwpn 0000000000000000 is all zero"));
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run(fx->root, no_wwnn, NULL, &err), ==, 2);
        g_assert_nonnull(strstr(err, "create needs --wwpn and --wwnn"));
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run(fx->root, busy, NULL, &err), ==, 1);
        g_assert_nonnull(strstr(err, "or pass --force"));
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run(fx->root, forced, &out, NULL), ==, 0);
        g_assert_cmpstr(out, ==, "Deleted vport-1:0-0.\n");
}

/* create --persist records the vport under its parent's port name; after a "reboot" (the vport
 * gone, the HBA renumbered) restore makes it again on whichever host has that port now */
static void test_npiv_persist_restore(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("scsi-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdFcVport) v = NULL;
        g_autoptr(GPtrArray) records = NULL;
        g_autoptr(GPtrArray) report = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *rec_path = hd_test_path(fx, "etc/hostdev/npiv.d/2001001122334466");
        g_autofree char *rec = NULL;
        g_autofree char *out = NULL;
        const guint64 wwpn = G_GUINT64_CONSTANT(0x2001001122334466);
        const guint64 wwnn = G_GUINT64_CONSTANT(0x2000001122334466);
        const char *restore[] = {"npiv", "restore", NULL};
        const char *list[] = {"npiv", "list", "--json", NULL};

        g_assert_true(hd_npiv_create(ctx, "host1", wwpn, wwnn, TRUE, &v, &error));
        g_assert_no_error(error);
        g_assert_true(g_file_get_contents(rec_path, &rec, NULL, NULL));
        g_assert_nonnull(strstr(rec, "port_name=0x2001001122334466\n"));
        g_assert_nonnull(strstr(rec, "node_name=0x2000001122334466\n"));
        g_assert_nonnull(strstr(rec, "parent_port_name=0x21000024ff3dc9a0\n"));
        records = hd_npiv_records(ctx, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(records->len, ==, 1);
        g_assert_cmpstr(((HdNpivRecord *)records->pdata[0])->vport, ==, "vport-1:0-1");
        g_assert_cmpstr(((HdNpivRecord *)records->pdata[0])->parent, ==, "host1");
        g_clear_pointer(&records, g_ptr_array_unref);

        /* present: restore changes nothing */
        g_assert_true(hd_npiv_restore(ctx, report, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(report->pdata[0], ==, "0x2001001122334466: present as vport-1:0-1");
        g_ptr_array_set_size(report, 0);

        /* the reboot: the kernel forgets the vport (the record stays) */
        g_assert_true(hd_ctx_write(ctx, "sys/class/fc_host/host1/vport_delete",
                                   "2001001122334466:2000001122334466", &error));
        g_assert_no_error(error);
        g_assert_cmpint(run(fx->root, restore, &out, NULL), ==, 0);
        g_assert_cmpstr(out, ==, "0x2001001122334466: created vport-1:0-1 on host1 (vHBA host3)\n");
        g_clear_pointer(&out, g_free);

        /* the parent's port is gone: said, and the exit status says so */
        g_assert_true(hd_ctx_write(ctx, "sys/class/fc_host/host1/vport_delete",
                                   "2001001122334466:2000001122334466", &error));
        tree_set(fx, "sys/class/fc_host/host1/port_name", "0x21000024ff3dc9ff\n");
        g_assert_false(hd_npiv_restore(ctx, report, &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_FAILED);
        g_clear_error(&error);
        g_assert_cmpstr(report->pdata[0], ==,
                        "0x2001001122334466: parent port 0x21000024ff3dc9a0 is not on this host "
                        "(HBA removed or its driver not loaded)");
        g_assert_cmpint(run(fx->root, list, &out, NULL), ==, 0);
        {
                g_autoptr(JsonNode) root = hd_test_parse_json(out);
                JsonArray *a = json_object_get_array_member(json_node_get_object(root), "recorded");
                JsonObject *r = json_array_get_object_element(a, 0);
                g_assert_cmpuint(json_array_get_length(a), ==, 1);
                g_assert_true(json_object_get_null_member(r, "parent"));
                g_assert_true(json_object_get_null_member(r, "vport"));
                g_assert_cmpstr(json_object_get_string_member(r, "parent_port_name"), ==,
                                "0x21000024ff3dc9a0");
        }
        /* delete forgets the record */
        tree_set(fx, "sys/class/fc_host/host1/port_name", "0x21000024ff3dc9a0\n");
        g_assert_true(hd_npiv_restore(ctx, report, &error));
        g_assert_no_error(error);
        g_assert_true(hd_npiv_delete(ctx, "0x2001001122334466", FALSE, &error));
        g_assert_no_error(error);
        g_assert_false(tree_has(fx, "etc/hostdev/npiv.d/2001001122334466"));
        records = hd_npiv_records(ctx, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(records->len, ==, 0);
}

/* `hostdev snapshot` captures what scsi and npiv read: on the snapshot they say what they say on
 * the machine (processes are not captured: the fixture's is removed first). */
static void test_snapshot_replays(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("scsi-server");
        g_autofree char *proc = hd_test_path(fx, "proc/4242");
        g_autofree char *rm = g_strdup_printf("rm -rf '%s'", proc);
        g_autofree char *tmp = hd_test_make_tmp_dir();
        g_autofree char *tree = g_build_filename(tmp, "tree", NULL);
        g_autofree char *cleanup = g_strdup_printf("rm -rf '%s'", tmp);
        const char *snap[] = {"snapshot", "-d", tree, NULL};
        static const char *const commands[][3] = {
            {"scsi", "list", "--json"},
            {"scsi", "show", "/dev/disk/by-id/scsi-35000c500a1b2c3d4"},
            {"npiv", "list", "--json"},
            {"vhost-scsi", "list", "--json"},
        };

        g_assert_cmpint(system(rm), ==, 0);
        g_assert_cmpint(run(fx->root, snap, NULL, NULL), ==, 0);
        for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
                const char *args[] = {commands[i][0], commands[i][1], commands[i][2], NULL};
                g_autofree char *a = NULL;
                g_autofree char *b = NULL;
                int ra = run(fx->root, args, &a, NULL);
                int rb = run(tree, args, &b, NULL);

                if (ra != 0 || rb != 0 || strcmp(a, b) != 0)
                        g_error("'%s %s %s' on the snapshot differs (exit %d vs %d):\n--- "
                                "machine\n%s\n--- snapshot\n%s",
                                args[0], args[1], args[2], ra, rb, a, b);
        }
        g_assert_cmpint(system(cleanup), ==, 0);
}

/* ------------------------------------------------------------------ vhost-scsi */

static void test_vhost(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("scsi-server");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) all = hd_vhost_list(ctx, &error);
        g_autoptr(HdVhostTarget) t = NULL;
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        HdVhostTarget *v;
        const char *xml[] = {"vhost-scsi", "xml", "NAA.5001405000000001", NULL};
        const char *qemu[] = {"vhost-scsi", "qemu-args", "naa.5001405000000001", NULL};
        const char *not_ready[] = {"vhost-scsi", "qemu-args", "naa.5001405000000011", NULL};
        const char *list[] = {"vhost-scsi", "list", "--json", NULL};
        static const char *const fields[] = {"wwpn",  "tpgt",   "nexus", "luns",
                                             "ready", "reason", NULL};

        g_assert_no_error(error);
        g_assert_cmpuint(all->len, ==, 2);
        v = all->pdata[0];
        g_assert_cmpstr(v->wwpn, ==, "naa.5001405000000001");
        g_assert_cmpint(v->tpgt, ==, 1);
        g_assert_cmpstr(v->nexus, ==, "naa.5001405000000002");
        g_assert_cmpuint(v->luns->len, ==, 1);
        g_assert_cmpstr(v->luns->pdata[0], ==, "lun_0: fileio_0/disk0 (/srv/vm/lun0.img)");
        g_assert_true(v->ready);
        g_assert_null(v->reason);
        v = all->pdata[1];
        g_assert_false(v->ready);
        g_assert_null(v->nexus);
        g_assert_cmpstr(v->reason, ==,
                        "tpgt_1 has no nexus (echo an initiator WWPN, e.g. naa.5001405000000002, > "
                        "/sys/kernel/config/target/vhost/naa.5001405000000011/tpgt_1/nexus)");

        g_assert_cmpint(run(fx->root, xml, &out, NULL), ==, 0);
        g_assert_cmpstr(out, ==,
                        "<hostdev mode='subsystem' type='scsi_host'>\n"
                        "  <source protocol='vhost' wwpn='naa.5001405000000001'/>\n"
                        "</hostdev>\n");
        g_clear_pointer(&out, g_free);
        g_assert_cmpint(run(fx->root, qemu, &out, NULL), ==, 0);
        g_assert_cmpstr(out, ==, "-device vhost-scsi-pci,wwpn=naa.5001405000000001\n");
        g_clear_pointer(&out, g_free);
        g_assert_cmpint(run(fx->root, not_ready, NULL, &err), ==, 1);
        g_assert_nonnull(strstr(err, "vhost target naa.5001405000000011 is not ready: tpgt_1 has "
                                     "no nexus"));
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run(fx->root, list, &out, NULL), ==, 0);
        /* the library's object (json-scsi.h, shared with GET /v1/vhost-scsi), as the CLI
         * always printed it */
        g_assert_cmpstr(out, ==,
                        "{\n"
                        "  \"targets\" : [\n"
                        "    {\n"
                        "      \"wwpn\" : \"naa.5001405000000001\",\n"
                        "      \"tpgt\" : 1,\n"
                        "      \"nexus\" : \"naa.5001405000000002\",\n"
                        "      \"luns\" : [\n"
                        "        \"lun_0: fileio_0/disk0 (/srv/vm/lun0.img)\"\n"
                        "      ],\n"
                        "      \"ready\" : true,\n"
                        "      \"reason\" : null\n"
                        "    },\n"
                        "    {\n"
                        "      \"wwpn\" : \"naa.5001405000000011\",\n"
                        "      \"tpgt\" : 1,\n"
                        "      \"nexus\" : null,\n"
                        "      \"luns\" : [\n"
                        "        \"lun_0: iblock_0/data1 (/dev/vg_data/lv_data)\"\n"
                        "      ],\n"
                        "      \"ready\" : false,\n"
                        "      \"reason\" : \"tpgt_1 has no nexus (echo an initiator WWPN, e.g. "
                        "naa.5001405000000002, > /sys/kernel/config/target/vhost/"
                        "naa.5001405000000011/tpgt_1/nexus)\"\n"
                        "    }\n"
                        "  ]\n"
                        "}\n");
        {
                g_autoptr(JsonNode) root = hd_test_parse_json(out);
                JsonArray *a = json_object_get_array_member(json_node_get_object(root), "targets");
                g_assert_cmpuint(json_array_get_length(a), ==, 2);
                assert_members(json_array_get_object_element(a, 0), fields);
                assert_members(json_array_get_object_element(a, 1), fields);
        }

        /* malformed and unknown names */
        g_assert_null(hd_vhost_find(ctx, "naa.50014050000000", &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        g_assert_null(hd_vhost_find(ctx, "naa.5001405000000001/../x", &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        g_clear_error(&error);
        g_assert_null(hd_vhost_find(ctx, "naa.5001405000000099", &error));
        g_assert_error(error, HD_ERROR, HD_ERROR_NOT_FOUND);
        g_clear_error(&error);

        /* no LUN, then no module */
        {
                g_autofree char *lun = hd_test_path(fx, "sys/kernel/config/target/vhost/"
                                                        "naa.5001405000000001/tpgt_1/lun/lun_0");
                g_autofree char *mod = hd_test_path(fx, "sys/module/vhost_scsi");
                g_autofree char *rm = g_strdup_printf("rm -rf '%s'", lun);
                g_autofree char *rm_mod = g_strdup_printf("rm -rf '%s'", mod);

                g_assert_cmpint(system(rm), ==, 0);
                t = hd_vhost_find(ctx, "naa.5001405000000001", &error);
                g_assert_no_error(error);
                g_assert_false(t->ready);
                g_assert_true(g_str_has_prefix(t->reason, "tpgt_1 has no LUN"));
                g_clear_pointer(&t, hd_vhost_target_free);
                g_assert_cmpint(system(rm_mod), ==, 0);
                t = hd_vhost_find(ctx, "naa.5001405000000001", &error);
                g_assert_no_error(error);
                g_assert_cmpstr(t->reason, ==,
                                "the vhost_scsi module is not loaded (modprobe vhost_scsi)");
        }
        {
                /* no configfs at all */
                g_autoptr(HdTestFixture) desk = hd_test_fixture_new("desktop");
                g_autoptr(HdCtx) c2 = hd_test_ctx_new(desk);
                g_autoptr(GPtrArray) none = hd_vhost_list(c2, &error);
                g_assert_no_error(error);
                g_assert_cmpuint(none->len, ==, 0);
        }
}

/* Hostile trees: FIFOs where attributes are expected (a read would block forever), links that
 * climb out of the root, names that are not the kernel's: listed without hanging or leaving. */
static void test_hostile_tree(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("scsi-server");
        g_autofree char *type = hd_test_path(fx, "sys/bus/scsi/devices/0:0:2:0/type");
        g_autofree char *vpd = hd_test_path(fx, "sys/bus/scsi/devices/0:0:2:0/vpd_pg83");
        g_autofree char *wwid = hd_test_path(fx, "sys/bus/scsi/devices/0:0:2:0/wwid");
        g_autofree char *port = hd_test_path(fx, "sys/class/fc_host/host1/port_name");
        g_autofree char *bus_escape = hd_test_path(fx, "sys/bus/scsi/devices/9:0:0:0");
        g_autofree char *bogus = hd_test_path(fx, "sys/bus/scsi/devices/01:0:0:0");
        g_autofree char *sg_odd =
            hd_test_path(fx, "sys/bus/scsi/devices/0:0:1:0/scsi_generic/sg1x");
        g_autofree char *by_id = hd_test_path(fx, "dev/disk/by-id/up");
        g_autofree char *out = NULL;
        const char *list[] = {"--root", fx->root, "scsi", "list", "--json", NULL};
        const char *npiv[] = {"--root", fx->root, "npiv", "list", NULL};
        g_autoptr(JsonNode) root = NULL;
        JsonArray *luns;

        g_assert_cmpint(unlink(type), ==, 0);
        g_assert_cmpint(mkfifo(type, 0644), ==, 0);
        g_assert_cmpint(unlink(wwid), ==, 0);
        g_assert_cmpint(mkfifo(vpd, 0644), ==, 0);
        g_assert_cmpint(unlink(port), ==, 0);
        g_assert_cmpint(mkfifo(port, 0644), ==, 0);
        g_assert_cmpint(symlink("../../../../../../../../../../../etc", bus_escape), ==, 0);
        g_assert_cmpint(symlink("/etc", bogus), ==, 0);
        g_assert_cmpint(g_mkdir_with_parents(sg_odd, 0755), ==, 0);
        g_assert_cmpint(symlink("/../../../../sdb", by_id), ==, 0);

        g_assert_cmpint(hd_test_run_cli_guarded(list, NULL, 20, &out, NULL), ==, 0);
        root = hd_test_parse_json(out);
        luns = json_object_get_array_member(json_node_get_object(root), "luns");
        /* 9:0:0:0 leads to the tree's own etc: a directory without LUN attributes, listed as
         * such; 01:0:0:0 is not a kernel name */
        g_assert_cmpuint(json_array_get_length(luns), ==, 9);
        {
                JsonObject *changer = json_array_get_object_element(luns, 2);
                JsonObject *tape = json_array_get_object_element(luns, 1);
                JsonObject *shared = json_array_get_object_element(luns, 3);
                JsonArray *ids = json_object_get_array_member(shared, "by_id");

                g_assert_cmpstr(json_object_get_string_member(changer, "hctl"), ==, "0:0:2:0");
                g_assert_true(json_object_get_null_member(changer, "type"));
                g_assert_true(json_object_get_null_member(changer, "wwid"));
                g_assert_cmpstr(json_object_get_string_member(tape, "sg"), ==, "sg1");
                /* the link climbing out names the tree's own sdb */
                g_assert_cmpuint(json_array_get_length(ids), ==, 3);
        }
        g_clear_pointer(&out, g_free);
        g_assert_cmpint(hd_test_run_cli_guarded(npiv, NULL, 20, &out, NULL), ==, 0);
        g_assert_nonnull(strstr(out, "host1"));
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/scsi/inventory", test_inventory);
        g_test_add_func("/scsi/no-scsi", test_no_scsi);
        g_test_add_func("/scsi/spec/valid", test_spec_valid);
        g_test_add_func("/scsi/spec/hostile", test_spec_hostile);
        g_test_add_func("/scsi/address", test_address_roundtrip);
        g_test_add_func("/scsi/vpd83", test_vpd83);
        g_test_add_func("/scsi/resolve/renumbered", test_resolve_after_renumbering);
        g_test_add_func("/scsi/resolve/refusals", test_resolve_refusals);
        g_test_add_func("/scsi/verdicts", test_verdicts);
        g_test_add_func("/scsi/verdicts/swap-multipath-nosg", test_verdicts_swap_multipath_nosg);
        g_test_add_func("/scsi/cli/xml-qemu-exact", test_cli_xml_qemu_exact);
        g_test_add_func("/scsi/cli/refusals", test_cli_refusals);
        g_test_add_func("/scsi/cli/json", test_cli_json);
        g_test_add_func("/scsi/snapshot-replays", test_snapshot_replays);
        g_test_add_func("/scsi/hostile-tree", test_hostile_tree);
        g_test_add_func("/vhost", test_vhost);
        g_test_add_func("/npiv/wwn", test_npiv_wwn);
        g_test_add_func("/npiv/list", test_npiv_list);
        g_test_add_func("/npiv/create-delete", test_npiv_create_delete);
        g_test_add_func("/npiv/cli", test_npiv_cli);
        g_test_add_func("/npiv/persist-restore", test_npiv_persist_restore);
        return g_test_run();
}
