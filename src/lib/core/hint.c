/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hints in the caller's words (hint.h). */
#include "config.h"

#include "hint.h"

const char *hd_hint_option(HdCtx *ctx, HdHintOption opt)
{
        gboolean api = hd_ctx_get_vocabulary(ctx) == HD_VOCABULARY_API;

        switch (opt) {
        case HD_HINT_GROUP:
                return api ? "\"group\": true" : "--group";
        case HD_HINT_FORCE:
                return api ? "\"force\": 1" : "--force";
        case HD_HINT_FORCE_TWICE:
                return api ? "\"force\": 2" : "--force twice";
        case HD_HINT_GUEST_FORCE:
                return api ? "force=1" : "--force";
        case HD_HINT_GUEST_SHAREABLE:
                return api ? "shareable=1" : "--shareable";
        }
        g_return_val_if_reached("");
}

static char *api_command(HdHintCommand cmd, const char *address, gboolean group, guint force)
{
        g_autoptr(GString) body = g_string_new(NULL);

        switch (cmd) {
        case HD_HINT_CMD_CHECK:
                return g_strdup("GET /v1/host");
        case HD_HINT_CMD_LIST:
                return g_strdup("GET /v1/devices");
        case HD_HINT_CMD_PERSIST_ADD:
                g_string_append(body, "\"persist\": true");
                break;
        case HD_HINT_CMD_DETACH:
                break;
        }
        if (group)
                g_string_append_printf(body, "%s\"group\": true", body->len ? ", " : "");
        if (force)
                g_string_append_printf(body, "%s\"force\": %u", body->len ? ", " : "", force);
        return g_strdup_printf("POST /v1/devices/%s/detach with {%s}", address, body->str);
}

char *hd_hint_command(HdCtx *ctx, HdHintCommand cmd, const char *address, gboolean group,
                      guint force)
{
        g_autoptr(GString) s = NULL;

        if (hd_ctx_get_vocabulary(ctx) == HD_VOCABULARY_API)
                return api_command(cmd, address, group, force);
        switch (cmd) {
        case HD_HINT_CMD_CHECK:
                return g_strdup("hostdev check");
        case HD_HINT_CMD_LIST:
                return g_strdup("hostdev list");
        case HD_HINT_CMD_PERSIST_ADD:
                s = g_string_new("hostdev persist add");
                break;
        case HD_HINT_CMD_DETACH:
                s = g_string_new("hostdev detach");
                break;
        }
        if (address)
                g_string_append_printf(s, " %s", address);
        if (group)
                g_string_append(s, " --group");
        for (guint i = 0; i < force; i++)
                g_string_append(s, " --force");
        return g_string_free(g_steal_pointer(&s), FALSE);
}

char *hd_hint_kernel_args_enable(HdCtx *ctx, const char *option)
{
        if (hd_ctx_get_vocabulary(ctx) == HD_VOCABULARY_API)
                return g_strdup_printf("PUT /v1/kernel-args with {\"enable\": [\"%s\"]}", option);
        return g_strdup_printf("hostdev kernel-args --enable %s --apply", option);
}

char *hd_hint_attach(HdCtx *ctx, const char *address)
{
        if (hd_ctx_get_vocabulary(ctx) == HD_VOCABULARY_API)
                return g_strdup_printf("POST /v1/devices/%s/attach", address);
        return g_strdup_printf("hostdev attach %s", address);
}

char *hd_hint_sriov(HdCtx *ctx, const char *pf, int numvfs)
{
        if (hd_ctx_get_vocabulary(ctx) == HD_VOCABULARY_API)
                return numvfs < 0 ? g_strdup_printf("GET /v1/devices/%s/sriov", pf)
                                  : g_strdup_printf("POST /v1/devices/%s/sriov with "
                                                    "{\"numvfs\": %d}",
                                                    pf, numvfs);
        return numvfs < 0 ? g_strdup_printf("hostdev sriov %s", pf)
                          : g_strdup_printf("hostdev sriov %s --numvfs %d", pf, numvfs);
}

char *hd_hint_mdev(HdCtx *ctx, HdHintMdev what, const char *arg)
{
        gboolean api = hd_ctx_get_vocabulary(ctx) == HD_VOCABULARY_API;

        switch (what) {
        case HD_HINT_MDEV_TYPES:
                if (api)
                        return g_strdup("GET /v1/mdev");
                return arg ? g_strdup_printf("hostdev mdev types %s", arg)
                           : g_strdup("hostdev mdev types");
        case HD_HINT_MDEV_LIST:
                return g_strdup(api ? "GET /v1/mdev" : "hostdev mdev list");
        case HD_HINT_MDEV_REMOVE:
                return api ? g_strdup_printf("POST /v1/mdev/%s/remove", arg)
                           : g_strdup_printf("hostdev mdev remove %s", arg);
        case HD_HINT_MDEV_REMOVE_PERSIST:
                return api ? g_strdup_printf("POST /v1/mdev/%s/remove with "
                                             "{\"persist\": true}",
                                             arg)
                           : g_strdup_printf("hostdev mdev remove %s --persist", arg);
        }
        g_return_val_if_reached(g_strdup(""));
}

char *hd_hint_usb_scsi(HdCtx *ctx, HdHintUsbScsi what, const char *arg)
{
        gboolean api = hd_ctx_get_vocabulary(ctx) == HD_VOCABULARY_API;

        switch (what) {
        case HD_HINT_USB_LIST:
                return g_strdup(api ? "GET /v1/usb" : "hostdev usb list");
        case HD_HINT_SCSI_LIST:
                return g_strdup(api ? "GET /v1/scsi" : "hostdev scsi list");
        case HD_HINT_SCSI_SHOW:
                return api ? g_strdup_printf("GET /v1/scsi/%s", arg)
                           : g_strdup_printf("hostdev scsi show %s", arg);
        case HD_HINT_VHOST_LIST:
                return g_strdup(api ? "GET /v1/vhost-scsi" : "hostdev vhost-scsi list");
        }
        g_return_val_if_reached(g_strdup(""));
}
