/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "fileio.h"
#include "machine.h"

/* procfs tables are small; this bounds a corrupt or hostile snapshot. */
#define PROC_FILE_MAX (8 * 1024 * 1024)

const char *hd_cpu_vendor_to_string(HdCpuVendor vendor)
{
        switch (vendor) {
        case HD_CPU_VENDOR_INTEL:
                return "intel";
        case HD_CPU_VENDOR_AMD:
                return "amd";
        case HD_CPU_VENDOR_OTHER:
                break;
        }
        return "other";
}

/* Value of the first "KEY\t: value" line of proc/cpuinfo, or NULL. */
char *hd_cpuinfo_field(const char *cpuinfo, const char *key)
{
        g_auto(GStrv) lines = NULL;

        if (!cpuinfo)
                return NULL;
        lines = g_strsplit(cpuinfo, "\n", -1);
        for (char **l = lines; *l; l++) {
                const char *colon = strchr(*l, ':');
                g_autofree char *name = NULL;

                if (!colon)
                        continue;
                name = g_strstrip(g_strndup(*l, colon - *l));
                if (strcmp(name, key) == 0)
                        return g_strstrip(g_strdup(colon + 1));
        }
        return NULL;
}

HdCpuVendor hd_cpu_vendor_from_id(const char *vendor_id)
{
        if (g_strcmp0(vendor_id, "GenuineIntel") == 0)
                return HD_CPU_VENDOR_INTEL;
        /* Hygon's Dhyana is an AMD Zen licence: same SVM, same AMD-Vi driver. */
        if (g_strcmp0(vendor_id, "AuthenticAMD") == 0 || g_strcmp0(vendor_id, "HygonGenuine") == 0)
                return HD_CPU_VENDOR_AMD;
        return HD_CPU_VENDOR_OTHER;
}

HdCpuVendor hd_host_get_cpu_vendor(HdCtx *ctx)
{
        g_autofree char *cpuinfo =
            hd_read_file_at(hd_ctx_get_root_fd(ctx), "proc/cpuinfo", PROC_FILE_MAX, NULL);
        g_autofree char *vendor_id = hd_cpuinfo_field(cpuinfo, "vendor_id");

        return hd_cpu_vendor_from_id(vendor_id);
}

char *hd_host_get_kernel_release(HdCtx *ctx)
{
        g_autofree char *rel =
            hd_read_attr_optional_at(hd_ctx_get_root_fd(ctx), "proc/sys/kernel/osrelease");

        if (!rel)
                return NULL;
        g_strstrip(rel);
        /* The release becomes part of paths (lib/modules/REL): refuse anything that could
         * leave the directory. */
        if (!*rel || strchr(rel, '/') || strcmp(rel, "..") == 0 || strcmp(rel, ".") == 0)
                return NULL;
        return g_steal_pointer(&rel);
}

char *hd_host_get_boot_id(HdCtx *ctx)
{
        g_autofree char *id =
            hd_read_attr_optional_at(hd_ctx_get_root_fd(ctx), "proc/sys/kernel/random/boot_id");

        if (!id)
                return NULL;
        g_strstrip(id);
        return g_uuid_string_is_valid(id) ? g_steal_pointer(&id) : NULL;
}

gboolean hd_kernel_release_parse(const char *release, guint *major, guint *minor)
{
        guint64 v[2] = {0, 0};
        const char *p = release;

        if (!release)
                return FALSE;
        for (int i = 0; i < 2; i++) {
                const char *start = p;
                while (g_ascii_isdigit(*p))
                        p++;
                if (p == start || p - start > 6)
                        return FALSE;
                v[i] = g_ascii_strtoull(start, NULL, 10);
                if (i == 0) {
                        if (*p != '.')
                                return FALSE;
                        p++;
                }
        }
        *major = (guint)v[0];
        *minor = (guint)v[1];
        return TRUE;
}
