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
        return 0;
}
