/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The collections' ETags (docs/api/engine-openapi.yaml, "ETags"): GET /v1/hosts,
 * /v1/hosts/{id}/devices, /v1/hosts/{id}/groups, /v1/events (and /v1/vms) carry a strong ETag
 * computed from the store before the answer is read (store.h, hd_store_etag); a request whose
 * If-None-Match holds it gets 304 with no body, without the list being read. The ETag does not
 * depend on the query (filters, pages): one per collection, valid for every URL of it.
 */
#include "config.h"

#include <string.h>

#include "api.h"

/* Whether the If-None-Match list @header holds @etag (weak comparison: W/ is ignored, as RFC
 * 9110 13.1.2 asks for If-None-Match). */
static gboolean etag_listed(const char *header, const char *etag)
{
        g_auto(GStrv) tags = g_strsplit(header, ",", -1);

        for (char **t = tags; *t; t++) {
                const char *tag = g_strstrip(*t);
                if (g_str_has_prefix(tag, "W/"))
                        tag += 2;
                if (strcmp(tag, "*") == 0 || strcmp(tag, etag) == 0)
                        return TRUE;
        }
        return FALSE;
}

gboolean hd_api_not_modified(HdEngine *e, HdHttpRequest *req, HdEtagScope scope,
                             const char *host_id)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *etag = hd_store_etag(e->store, scope, host_id, &error);
        const char *inm = hd_http_request_get_header(req, "If-None-Match");

        if (!etag) {
                hd_api_respond_gerror(req, error);
                return TRUE;
        }
        hd_http_request_set_header(req, "ETag", etag);
        if (inm && etag_listed(inm, etag)) {
                hd_http_respond_empty(req, HD_HTTP_NOT_MODIFIED);
                return TRUE;
        }
        return FALSE;
}
