/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for what people type for a SCSI LUN (hd_scsi_spec_parse: WWIDs, by-id
 * names, H:C:T:L) and for VPD page 0x83 (hd_scsi_wwid_from_vpd83: the device's own bytes).
 * Invariants: a spec either fails with an error or is canonical and parses back to itself; a
 * by-id name is one path component that is not "." or ".."; an H:C:T:L formats back to its
 * canonical text; a WWID from a VPD page is printable and is a spec the grammar accepts when
 * it is naa or eui; a WWN (hd_npiv_wwn_parse) is never zero and its canonical form parses back to
 * the same value.
 */
#include "config.h"

#include <string.h>

#include "hd-error.h"
#include "npiv.h"
#include "scsi.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
        g_autofree char *text = g_strndup((const char *)data, size);
        g_autoptr(GError) error = NULL;
        g_autofree char *wwid = hd_scsi_wwid_from_vpd83(data, size);
        HdScsiSpec spec, again;

        if (hd_scsi_spec_parse(text, &spec, &error)) {
                g_assert_no_error(error);
                g_assert_cmpuint(strlen(spec.text), <, HD_SCSI_WWID_MAX);
                switch (spec.kind) {
                case HD_SCSI_SPEC_BY_ID:
                        g_assert_null(strchr(spec.text, '/'));
                        g_assert_cmpstr(spec.text, !=, ".");
                        g_assert_cmpstr(spec.text, !=, "..");
                        break;
                case HD_SCSI_SPEC_HCTL: {
                        char buf[HD_SCSI_ADDRESS_STRLEN];
                        HdScsiAddress a;
                        g_assert_cmpstr(hd_scsi_address_format(&spec.address, buf), ==, spec.text);
                        g_assert_true(hd_scsi_address_parse(spec.text, &a));
                        g_assert_true(a.host == spec.address.host &&
                                      a.channel == spec.address.channel &&
                                      a.target == spec.address.target && a.lun == spec.address.lun);
                        break;
                }
                case HD_SCSI_SPEC_WWID:
                        g_assert_true(hd_scsi_spec_parse(spec.text, &again, NULL));
                        g_assert_cmpint(again.kind, ==, HD_SCSI_SPEC_WWID);
                        g_assert_cmpstr(again.text, ==, spec.text);
                        break;
                }
        } else {
                g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
                for (const char *p = error->message; *p; p++)
                        g_assert_cmpint((guchar)*p, >=, 0x20);
        }
        if (wwid) {
                for (const char *p = wwid; *p; p++)
                        g_assert_true((guchar)*p >= 0x20 && (guchar)*p <= 0x7e);
                if (g_str_has_prefix(wwid, "naa.") || g_str_has_prefix(wwid, "eui."))
                        g_assert_true(hd_scsi_spec_parse(wwid, &again, NULL));
        }
        {
                guint64 wwn = 0, back = 0;
                char buf[19];
                g_autoptr(GError) werr = NULL;

                if (hd_npiv_wwn_parse(text, "--wwpn", &wwn, &werr)) {
                        g_assert_cmpuint(wwn, !=, 0);
                        g_assert_true(
                            hd_npiv_wwn_parse(hd_npiv_wwn_format(wwn, buf), "x", &back, NULL));
                        g_assert_cmpuint(back, ==, wwn);
                } else {
                        g_assert_error(werr, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
                        for (const char *p = werr->message; *p; p++)
                                g_assert_cmpint((guchar)*p, >=, 0x20);
                }
        }
        return 0;
}
