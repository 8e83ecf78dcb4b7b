/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine API's hosts: /v1/hosts, /v1/hosts/{id}, its devices, groups, mdev types and refresh
 * (USB, SCSI and vhost-scsi: api-host-usbscsi.c)
 * (docs/api/engine-openapi.yaml). Routed from api.c; the helpers are in api.h.
 */
#include "config.h"

#include <string.h>

#include "api.h"
#include "devices.h"

/* A host as the API shows it: never the agent token. */
void hd_api_add_host(JsonBuilder *b, const HdHost *h)
{
        json_builder_begin_object(b);
        hd_api_add_string(b, "id", h->id);
        hd_api_add_string(b, "name", h->name);
        hd_api_add_string(b, "agent_url", h->agent_url);
        hd_api_add_string(b, "tls_ca_file", h->tls_ca_file);
        hd_api_add_string(b, "tls_pinned_cert", h->tls_pinned_cert);
        hd_api_add_string(b, "status", hd_host_status_to_string(h->status));
        hd_api_add_string(b, "last_error", h->last_error);
        hd_api_add_string(b, "retry_at", h->status == HD_HOST_NON_RESPONSIVE ? h->retry_at : NULL);
        json_builder_set_member_name(b, "retry_seconds");
        json_builder_add_int_value(b, h->status == HD_HOST_NON_RESPONSIVE ? h->retry_seconds : 0);
        json_builder_set_member_name(b, "passthrough");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "enabled");
        if (h->passthrough < 0)
                json_builder_add_null_value(b);
        else
                json_builder_add_boolean_value(b, h->passthrough == 1);
        hd_api_add_string(b, "reason", h->passthrough_reason);
        json_builder_end_object(b);
        hd_api_add_string(b, "cpu_vendor", h->cpu_vendor);
        hd_api_add_string(b, "kernel_release", h->kernel_release);
        json_builder_set_member_name(b, "kernel_args");
        json_builder_begin_object(b);
        hd_api_add_json_array(b, "running", h->kernel_args_running);
        hd_api_add_json_array(b, "configured", h->kernel_args_configured);
        hd_api_add_json_array(b, "desired", h->kernel_args_desired);
        json_builder_end_object(b);
        hd_api_add_string(b, "boot_id", h->boot_id);
        json_builder_set_member_name(b, "reboot_required");
        json_builder_add_boolean_value(b, h->reboot_required);
        hd_api_add_string(b, "rebooting_since",
                          h->status == HD_HOST_REBOOTING ? h->rebooting_since : NULL);
        json_builder_set_member_name(b, "device_count");
        json_builder_add_int_value(b, h->device_count);
        json_builder_set_member_name(b, "group_count");
        json_builder_add_int_value(b, h->group_count);
        hd_api_add_string(b, "last_sync", h->last_sync);
        hd_api_add_string(b, "created_at", h->created_at);
        hd_api_add_string(b, "updated_at", h->updated_at);
        json_builder_end_object(b);
}

void hd_api_respond_host(HdEngine *e, HdHttpRequest *req, guint status, const char *id)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdHost) h = hd_store_host_get(e->store, id, &error);
        g_autoptr(JsonBuilder) b = json_builder_new();

        if (!h)
                return hd_api_respond_gerror(req, error);
        hd_api_add_host(b, h);
        hd_api_respond_builder(req, status, b);
}

static void add_host_item(JsonBuilder *b, gconstpointer h)
{
        hd_api_add_host(b, h);
}

static void list_hosts(HdEngine *e, HdHttpRequest *req)
{
        static const char *const params[] = {"status", "name_prefix", "passthrough",
                                             "limit",  "offset",      NULL};
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) hosts = NULL;
        HdHostFilter f = {.passthrough = -1};
        guint64 limit = 100, offset = 0;
        const char *pt = hd_api_query(req, "passthrough");
        HdHostStatus st;
        guint total = 0;

        if (!hd_api_check_query(req, params) || !hd_api_query_uint(req, "limit", 1, 1000, &limit) ||
            !hd_api_query_uint(req, "offset", 0, G_MAXINT32, &offset))
                return;
        f.status = hd_api_query(req, "status");
        if (f.status && !hd_host_status_from_string(f.status, &st))
                return hd_http_respond_error(req, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                             "status must be connecting, up, maintenance, "
                                             "rebooting or non_responsive");
        if (pt && strcmp(pt, "enabled") != 0 && strcmp(pt, "disabled") != 0)
                return hd_http_respond_error(req, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                             "passthrough must be enabled or disabled");
        if (pt)
                f.passthrough = strcmp(pt, "enabled") == 0;
        f.name_prefix = hd_api_query(req, "name_prefix");
        f.limit = (guint)limit;
        f.offset = (guint)offset;
        if (hd_api_not_modified(e, req, HD_ETAG_HOSTS, NULL))
                return;
        hosts = hd_store_hosts_list(e->store, &f, &total, &error);
        if (!hosts)
                return hd_api_respond_gerror(req, error);
        hd_api_respond_page(req, "hosts", hosts, add_host_item, total, limit, offset);
}

static void add_host_call(HdEngine *e, HdHttpRequest *req)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) o = hd_api_body_object(e, req, "host.add", "hosts");
        g_auto(HdHostBody) hb = {0};
        g_autofree char *id = NULL;
        g_autofree char *object = NULL;

        if (!o)
                return;
        if (!hd_engine_body_host(o, TRUE, &hb, &error))
                return hd_api_refuse(e, req, "host.add", "hosts", error);
        object = g_strdup_printf("host %s", hb.name);
        if (!hd_store_host_add(e->store, hb.name, hb.agent_url, hb.agent_token, hb.tls_ca_file,
                               hb.tls_pinned_cert, &id, &error))
                return hd_api_refuse(e, req, "host.add", object, error);
        g_free(object);
        object = g_strdup_printf("host %s (%s)", hb.name, id);
        hd_engine_event(e, hd_api_caller(req), "host.add", object, "ok", hb.agent_url);
        hd_sync_host_start(e->sync, id);
        {
                g_autofree char *location = g_strconcat("/v1/hosts/", id, NULL);
                hd_http_request_set_header(req, "Location", location);
        }
        hd_api_respond_host(e, req, 201, id);
}

static void edit_host(HdEngine *e, HdHttpRequest *req, const char *id)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *object = g_strdup_printf("host %s", id);
        g_autoptr(JsonObject) o = hd_api_body_object(e, req, "host.edit", object);
        g_auto(HdHostBody) hb = {0};
        gboolean reconnect;

        if (!o)
                return;
        if (!hd_engine_body_host(o, FALSE, &hb, &error))
                return hd_api_refuse(e, req, "host.edit", object, error);
        reconnect = hb.agent_url || hb.agent_token || hb.tls_ca_file || hb.tls_pinned_cert;
        if (!hd_store_host_edit(e->store, id, hb.name, hb.agent_url, hb.agent_token, hb.tls_ca_file,
                                hb.tls_pinned_cert, &error))
                return hd_api_refuse(e, req, "host.edit", object, error);
        {
                g_autofree char *what = hd_api_changed_members(o);
                hd_engine_event(e, hd_api_caller(req), "host.edit", object, "ok", what);
        }
        if (reconnect)
                hd_sync_host_start(e->sync, id);
        hd_api_respond_host(e, req, HD_HTTP_OK, id);
}

static void remove_host(HdEngine *e, HdHttpRequest *req, const char *id)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *object = g_strdup_printf("host %s", id);

        if (!hd_store_host_remove(e->store, id, &error))
                return hd_api_refuse(e, req, "host.remove", object, error);
        hd_sync_host_stop(e->sync, id);
        hd_engine_event(e, hd_api_caller(req), "host.remove", object, "ok", "removed");
        hd_http_respond_empty(req, 204);
}

static void refresh_host(HdEngine *e, HdHttpRequest *req, const char *id)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *object = g_strdup_printf("host %s", id);
        g_autoptr(HdHost) h = hd_store_host_get(e->store, id, &error);

        if (!h)
                return hd_api_refuse(e, req, "host.refresh", object, error);
        if (!hd_api_no_members(e, req, "host.refresh", object, "refresh"))
                return;
        hd_sync_host_start(e->sync, id);
        hd_engine_event(e, hd_api_caller(req), "host.refresh", object, "ok",
                        "inventory and readiness re-read from the agent");
        hd_http_respond_text(req, 202, "application/json", "{\"refreshing\":true}");
}

/* The device filters of GET /v1/hosts/{id}/devices; FALSE when answered 400. */
static gboolean device_filter(HdHttpRequest *req, HdDeviceFilter *f, guint64 *limit,
                              guint64 *offset, char **text)
{
        guint64 group = G_MAXUINT64;

        if (!hd_api_query_uint(req, "limit", 1, 10000, limit) ||
            !hd_api_query_uint(req, "offset", 0, G_MAXINT32, offset) ||
            !hd_api_query_uint(req, "iommu_group", 0, G_MAXINT32, &group))
                return FALSE;
        f->category = hd_api_query(req, "class");
        if (f->category && !hd_device_category_valid(f->category)) {
                hd_http_respond_error(req, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                      "class must be gpu, net, storage, usb, audio, bridge or "
                                      "other");
                return FALSE;
        }
        f->driver = hd_api_query(req, "driver");
        if (f->driver && (!*f->driver || strlen(f->driver) > 64)) {
                hd_http_respond_error(req, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                      "driver: give a driver name (1 to 64 characters) or none");
                return FALSE;
        }
        if (hd_api_query(req, "text")) {
                const char *t = hd_api_query(req, "text");
                if (!*t || strlen(t) > 128) {
                        hd_http_respond_error(req, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                              "text: give 1 to 128 characters to search for");
                        return FALSE;
                }
                *text = hd_device_search_term(t);
                f->text = *text;
        }
        f->iommu_group = group == G_MAXUINT64 ? -1 : (gint64)group;
        f->limit = (guint)*limit;
        f->offset = (guint)*offset;
        return TRUE;
}

static void list_inventory(HdEngine *e, HdHttpRequest *req, const char *id, HdInvKind kind)
{
        static const char *const dev_params[] = {"class", "driver", "text", "iommu_group",
                                                 "limit", "offset", NULL};
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) items = NULL;
        g_autoptr(HdHost) h = NULL;
        g_autofree char *text = NULL;
        HdDeviceFilter f = {.iommu_group = -1};
        /* default: the whole inventory (what callers before pages got) */
        guint64 limit = 10000, offset = 0;
        guint total = 0;
        GString *out;

        if (!hd_api_check_query(req, kind == HD_INV_DEVICES ? dev_params : NULL))
                return;
        if (kind == HD_INV_DEVICES && !device_filter(req, &f, &limit, &offset, &text))
                return;
        if (hd_api_not_modified(e, req, HD_ETAG_INVENTORY, id))
                return;
        h = hd_store_host_get(e->store, id, &error);
        if (h && kind == HD_INV_DEVICES)
                items = hd_store_devices_list(e->store, id, &f, &total, &error);
        else if (h)
                items = hd_store_groups_list(e->store, id, &error);
        if (!items)
                return hd_api_respond_gerror(req, error);
        /* the agent's objects as stored, spliced as they are */
        out = g_string_new("{\"host_id\":");
        {
                g_autoptr(JsonNode) n = json_node_init_string(json_node_alloc(), id);
                g_autofree char *s = json_to_string(n, FALSE);
                g_string_append(out, s);
        }
        g_string_append_printf(
            out, ",\"status\":\"%s\",\"last_sync\":", hd_host_status_to_string(h->status));
        if (h->last_sync)
                g_string_append_printf(out, "\"%s\"", h->last_sync);
        else
                g_string_append(out, "null");
        if (kind == HD_INV_DEVICES)
                g_string_append_printf(out,
                                       ",\"total\":%u,\"limit\":%" G_GUINT64_FORMAT
                                       ",\"offset\":%" G_GUINT64_FORMAT,
                                       total, limit, offset);
        g_string_append(out, kind == HD_INV_DEVICES ? ",\"devices\":[" : ",\"groups\":[");
        for (guint i = 0; i < items->len; i++) {
                if (i)
                        g_string_append_c(out, ',');
                g_string_append(out, items->pdata[i]);
        }
        g_string_append(out, "]}");
        hd_http_respond_take(req, HD_HTTP_OK, "application/json", g_string_free(out, FALSE));
}

/* GET /v1/hosts/{id}/mdev: the host's mediated device types per parent with the capacity the
 * agent last reported (the sync re-reads it whenever the agent's generation moves). */
static void list_mdev(HdEngine *e, HdHttpRequest *req, const char *id)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) types = NULL;
        g_autoptr(GPtrArray) leftovers = NULL;
        g_autoptr(HdHost) h = NULL;
        g_autoptr(JsonBuilder) b = json_builder_new();
        const char *parent = NULL;

        if (hd_api_not_modified(e, req, HD_ETAG_MDEV, id))
                return;
        h = hd_store_host_get(e->store, id, &error);
        if (h)
                types = hd_store_host_mdev_types(e->store, id, &error);
        if (types)
                leftovers = hd_store_host_mdev_leftovers(e->store, id, &error);
        if (!types || !leftovers)
                return hd_api_respond_gerror(req, error);
        json_builder_begin_object(b);
        hd_api_add_string(b, "host_id", h->id);
        hd_api_add_string(b, "status", hd_host_status_to_string(h->status));
        hd_api_add_string(b, "last_sync", h->last_sync);
        json_builder_set_member_name(b, "parents");
        json_builder_begin_array(b);
        for (guint i = 0; i < types->len; i++) {
                const HdHostMdevType *t = types->pdata[i];

                if (!parent || strcmp(parent, t->parent) != 0) {
                        if (parent) {
                                json_builder_end_array(b);
                                json_builder_end_object(b);
                        }
                        parent = t->parent;
                        json_builder_begin_object(b);
                        hd_api_add_string(b, "parent", t->parent);
                        json_builder_set_member_name(b, "types");
                        json_builder_begin_array(b);
                }
                json_builder_begin_object(b);
                hd_api_add_string(b, "type", t->type);
                hd_api_add_string(b, "name", t->name);
                hd_api_add_string(b, "description", t->description);
                hd_api_add_string(b, "device_api", t->device_api);
                json_builder_set_member_name(b, "available_instances");
                if (t->available_instances < 0)
                        json_builder_add_null_value(b);
                else
                        json_builder_add_int_value(b, t->available_instances);
                json_builder_set_member_name(b, "instances");
                json_builder_add_int_value(b, t->instances);
                json_builder_end_object(b);
        }
        if (parent) {
                json_builder_end_array(b);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        /* mdevs of deleted VMs still to be removed (api-mdev-leftover.c) */
        json_builder_set_member_name(b, "leftovers");
        json_builder_begin_array(b);
        for (guint i = 0; leftovers && i < leftovers->len; i++) {
                const HdMdevLeftover *l = leftovers->pdata[i];
                json_builder_begin_object(b);
                hd_api_add_string(b, "uuid", l->uuid);
                hd_api_add_string(b, "parent", l->parent);
                hd_api_add_string(b, "type", l->type);
                hd_api_add_string(b, "vm_name", l->vm_name);
                hd_api_add_string(b, "since", l->since);
                hd_api_add_string(b, "last_error", l->last_error);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
        hd_api_respond_builder(req, HD_HTTP_OK, b);
}

void hd_api_route_hosts(HdEngine *e, HdHttpRequest *req, char **seg, guint n)
{
        const char *method = hd_http_request_get_method(req);
        gboolean get = hd_http_request_is_get(req);

        if (n == 1) {
                if (get)
                        return list_hosts(e, req);
                if (strcmp(method, "POST") == 0)
                        return hd_api_check_query(req, NULL) ? add_host_call(e, req) : (void)0;
                return hd_api_bad_method(req, "GET, POST");
        }
        if (n == 5 && strcmp(seg[2], "devices") == 0 &&
            hd_api_route_sriov(e, req, seg[1], seg[3], seg[4]))
                return;
        if ((n == 3 || (n == 5 && strcmp(seg[4], "delete") == 0)) &&
            strcmp(seg[2], "npiv") == 0)
                return hd_api_route_npiv(e, req, seg, n);
        if (n == 5)
                return hd_http_respond_error(req, HD_HTTP_NOT_FOUND, "not-found",
                                             "no such endpoint %s", hd_http_request_get_path(req));
        /* only devices takes a parameter (list_inventory checks it) */
        if (!(n == 3 && strcmp(seg[2], "devices") == 0) && !hd_api_check_query(req, NULL))
                return;
        if (n == 2) {
                if (get)
                        return hd_api_respond_host(e, req, HD_HTTP_OK, seg[1]);
                if (strcmp(method, "PATCH") == 0)
                        return edit_host(e, req, seg[1]);
                if (strcmp(method, "DELETE") == 0)
                        return remove_host(e, req, seg[1]);
                return hd_api_bad_method(req, "GET, PATCH, DELETE");
        }
        if (n == 3 && (strcmp(seg[2], "devices") == 0 || strcmp(seg[2], "groups") == 0)) {
                if (!get)
                        return hd_api_bad_method(req, "GET");
                return list_inventory(e, req, seg[1],
                                      strcmp(seg[2], "devices") == 0 ? HD_INV_DEVICES
                                                                     : HD_INV_GROUPS);
        }
        if (n == 3 && strcmp(seg[2], "mdev") == 0) {
                if (!get)
                        return hd_api_bad_method(req, "GET");
                return list_mdev(e, req, seg[1]);
        }
        if (n == 3 && (strcmp(seg[2], "usb") == 0 || strcmp(seg[2], "scsi") == 0 ||
                       strcmp(seg[2], "vhost-scsi") == 0)) {
                if (!get)
                        return hd_api_bad_method(req, "GET");
                return hd_api_host_usbscsi(e, req, seg[1], seg[2]);
        }
        if (n == 3 && hd_api_route_hostlife(e, req, seg[1], seg[2]))
                return;
        if (n == 3 && strcmp(seg[2], "refresh") == 0) {
                if (strcmp(method, "POST") != 0)
                        return hd_api_bad_method(req, "POST");
                return refresh_host(e, req, seg[1]);
        }
        hd_http_respond_error(req, HD_HTTP_NOT_FOUND, "not-found", "no such endpoint %s",
                              hd_http_request_get_path(req));
}
