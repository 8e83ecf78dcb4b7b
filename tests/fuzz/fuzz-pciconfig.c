/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for config-space parsing: snapshots and other tools hand us config blobs
 * of any length and content; capability walks must stay in bounds and terminate.
 */
#include "config.h"

#include "pciconfig.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
        HdConfig cfg = { .data = data, .len = size };
        HdPcieInfo pcie;
        guint16 cap, ctrl;

        (void)hd_config_header_type(&cfg);
        (void)hd_config_is_multifunction(&cfg);
        (void)hd_config_get_pcie(&cfg, &pcie);
        (void)hd_config_get_acs(&cfg, &cap, &ctrl);
        (void)hd_config_af_flr(&cfg);
        (void)hd_config_pm_reset(&cfg);
        for (guint id = 0; id < 0x20; id++)
                (void)hd_config_find_cap(&cfg, (guint8)id);
        (void)hd_config_find_ext_cap(&cfg, HD_PCI_EXT_CAP_ID_SRIOV);
        {
                /* the listing agrees with the finders: in bounds, bounded, the first of each
                 * id where find_cap finds it */
                g_autoptr(GArray) caps = hd_config_capabilities(&cfg);
                gboolean seen_std[256] = { FALSE };

                g_assert_cmpuint(caps->len, <=, 48 + 480);
                for (guint i = 0; i < caps->len; i++) {
                        const HdCapability *c = &g_array_index(caps, HdCapability, i);
                        g_assert_cmpuint((gsize)c->offset + 2, <=, size);
                        if (c->extended) {
                                g_assert_cmpuint(c->offset, >=, 0x100);
                                continue;
                        }
                        g_assert_cmpuint(c->offset, >=, 0x40);
                        if (!seen_std[c->id])
                                g_assert_cmpuint(hd_config_find_cap(&cfg, (guint8)c->id), ==,
                                                 c->offset);
                        seen_std[c->id] = TRUE;
                        (void)hd_pci_capability_name(c->id, c->extended);
                }
        }
        return 0;
}
