/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the rtnetlink answers vf-net.c reads (the kernel's bytes, or a fake's):
 * messages and nested attributes of any length and content; every length is checked before it
 * is used, and the VF count is bounded.
 */
#include "config.h"

#include "vf-net.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
        HdVfNetInfo *info = g_new0(HdVfNetInfo, 1);
        GError *error = NULL;

        info->num_vfs = -1;
        info->vfs = g_array_new(FALSE, TRUE, sizeof(HdVfNet));
        if (!hd_vf_net_parse_reply(data, size, info, &error))
                g_assert(error != NULL);
        g_clear_error(&error);
        for (guint i = 0; i < info->vfs->len; i++)
                g_assert(hd_vf_net_info_get(info, i)->index == i);
        hd_vf_net_info_free(info);
        {
                char *message = NULL;
                (void)hd_vf_net_parse_ack(data, size, &message, &error);
                g_assert(!message || g_utf8_validate(message, -1, NULL));
                g_free(message);
                g_clear_error(&error);
        }
        return 0;
}
