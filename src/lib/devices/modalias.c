/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fnmatch.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "hd-error.h"
#include "machine.h"
#include "modalias.h"

void hd_modalias_match(const char *alias_text, const char *modalias, GPtrArray *out)
{
        const char *line = alias_text;

        while (line && *line) {
                const char *end = strchr(line, '\n');
                gsize len = end ? (gsize)(end - line) : strlen(line);

                /* "alias PATTERN MODULE": only PCI patterns can match a PCI modalias */
                if (len > 10 && strncmp(line, "alias pci:", 10) == 0) {
                        g_autofree char *copy = g_strndup(line + 6, len - 6);
                        char *space = strchr(copy, ' ');
                        if (space && space[1] && !strchr(space + 1, ' ')) {
                                *space = '\0';
                                if (fnmatch(copy, modalias, 0) == 0 && !g_ptr_array_find_with_equal_func(out, space + 1, g_str_equal, NULL))
                                        g_ptr_array_add(out, g_strdup(space + 1));
                        }
                }
                line = end ? end + 1 : NULL;
        }
}

GPtrArray *hd_device_kernel_modules(HdCtx *ctx, const HdAddress *addr, GError **error)
{
        static const char *const files[] = { "modules.alias", "modules.builtin.alias" };
        int root = hd_ctx_get_root_fd(ctx);
        char name[HD_ADDRESS_STRLEN];
        g_autofree char *path = NULL;
        g_autofree char *modalias = NULL;
        g_autofree char *release = NULL;
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
        struct stat st;

        hd_address_format(addr, name);
        path = g_strdup_printf("sys/bus/pci/devices/%s", name);
        if (!hd_stat_at(root, path, FALSE, &st)) {
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                            "no PCI device %s on this machine; hostdev list shows the devices",
                            name);
                return NULL;
        }
        g_free(path);
        path = g_strdup_printf("sys/bus/pci/devices/%s/modalias", name);
        modalias = hd_read_attr_optional_at(root, path);
        release = hd_host_get_kernel_release(ctx);
        if (!modalias || !release)
                return g_steal_pointer(&out);
        g_strstrip(modalias);
        for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
                g_autofree char *file = g_strdup_printf("lib/modules/%s/%s", release, files[i]);
                g_autofree char *text = hd_read_file_at(root, file, HD_MODULES_ALIAS_MAX, NULL);
                if (text)
                        hd_modalias_match(text, modalias, out);
        }
        return g_steal_pointer(&out);
}
