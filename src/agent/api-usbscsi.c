/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * USB devices and SCSI LUNs, which a VM gets without VFIO and so without an IOMMU (QEMU's
 * usb-host and scsi-generic open the host's device nodes; the controller or adapter stays the
 * host's):
 *   GET /v1/usb                  {"generation", "devices": [USB...]} (hostdev usb list --json):
 *                                verdicts, holders, controller and its IOMMU group; ETag,
 *                                If-None-Match and ?wait as /v1/devices
 *   GET /v1/usb/{spec}           USB with "generation" (hostdev usb show SPEC --json); SPEC is
 *                                vendor:product[:serial] or a port path, URL-encoded
 *   GET /v1/usb/{spec}/xml       {"hostdev_xml", "warnings"} (hostdev usb xml SPEC --json);
 *                                ?force=1 passes the verdicts --force passes
 *   GET /v1/scsi                 {"generation", "luns": [LUN...]} (hostdev scsi list --json)
 *   GET /v1/scsi/{wwid}          LUN with "generation" (hostdev scsi show --json); a WWID, or
 *                                H:C:T:L to look at one
 *   GET /v1/scsi/{wwid}/xml      {"hostdev_xml", "luns": [{spec, hctl, wwid, sg, warnings}]}
 *                                (hostdev scsi xml --json); ?force=1, ?shareable=1, ?readonly=1
 *   GET /v1/npiv                 {"fc_hosts", "vports", "recorded"} (hostdev npiv list --json),
 *                                read at every call (no ETag: an FC port's state and the
 *                                recorded vports change without an event)
 *   POST /v1/npiv                {parent, wwpn, wwnn, persist, dry_run}: create a vport (hostdev
 *                                npiv create --json, with "wwpn" and "wwnn": a WWN left out is
 *                                generated, hd_npiv_wwn_generate())
 *   POST /v1/npiv/{name}/delete  {force, dry_run}: delete a vport named by its WWPN, its name
 *                                (vport-3:0-0) or its vHBA (host4) (hostdev npiv delete --json)
 *                                The inventory's generation moves after both (a vHBA is a SCSI
 *                                host: its LUNs come and go with it).
 *   GET /v1/vhost-scsi           {"generation", "targets": [target...]} (hostdev vhost-scsi
 *                                list --json): the LIO vhost targets of configfs, read at
 *                                every call (no ETag: configfs sends no event)
 *   GET /v1/vhost-scsi/{wwpn}/xml {"hostdev_xml"} (hostdev vhost-scsi xml WWPN --json); WWPN
 *                                naa. and 16 hex digits, else 400; a target that is not
 *                                ready is 409 "refused" with what to set up
 * The objects are the library's (usb-json.c, json-scsi.h), so the API and the CLI agree. A
 * refused device is 409 with the reasons: "refused" (a hub, the host's only keyboard, storage
 * the host uses, a USB device a process or VM holds), "busy" (a LUN another process has open),
 * "not-supported" (a LUN without an sg node). The configuration answers read the host now,
 * not the cached list, so a device taken since the last generation is refused.
 */
#include "config.h"

#include <string.h>

#include "agent.h"

/* How the library's "name one" lists name a device to the API's caller. */
#define USB_PICK "spec"

/* The boolean query parameter @name ("1", "true", "0", "false"; absent is FALSE). FALSE
 * after answering 400. */
static gboolean query_bool(HdRequest *req, const char *name, gboolean *out)
{
        const char *v = req->query ? g_hash_table_lookup(req->query, name) : NULL;

        *out = FALSE;
        if (!v)
                return TRUE;
        if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0) {
                *out = TRUE;
                return TRUE;
        }
        if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
                return TRUE;
        hd_respond_error(req->msg, HD_HTTP_BAD_REQUEST, "invalid-argument",
                         "%s=%s: say %s=1 or %s=0", name, v, name, name);
        return FALSE;
}

/* Only the query parameters of @allowed (NULL-terminated): a misspelt "forse=1" is refused
 * rather than ignored. FALSE after answering 400. */
static gboolean query_only(HdRequest *req, const char *const *allowed)
{
        GHashTableIter it;
        gpointer key;

        if (!req->query)
                return TRUE;
        g_hash_table_iter_init(&it, req->query);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
                if (!g_strv_contains(allowed, key)) {
                        g_autofree char *list = g_strjoinv(", ", (char **)allowed);
                        hd_respond_error(req->msg, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                         "unknown query parameter \"%s\"; this call takes %s",
                                         (const char *)key, list);
                        return FALSE;
                }
        }
        return TRUE;
}

/* ---- USB ---------------------------------------------------------------------------------- */

static GPtrArray *usb_devices(HdRequest *req)
{
        g_autoptr(GError) error = NULL;
        GPtrArray *devices = hd_usb_scan(req->agent->ctx, &error);

        if (!devices) {
                hd_respond_gerror(req->msg, error);
                return NULL;
        }
        hd_usb_evaluate(req->agent->ctx, devices);
        return devices;
}

static void get_usb_device(HdRequest *req, const HdUsbSpec *spec)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) devices = NULL;
        g_autoptr(JsonBuilder) b = NULL;
        g_autoptr(JsonNode) node = NULL;
        HdUsbDevice *dev;

        if (!query_only(req, (const char *const[]){NULL}))
                return;
        /* 404 / 400 whatever the caller's If-None-Match */
        if (!(devices = usb_devices(req)))
                return;
        if (!(dev = hd_usb_resolve(req->agent->ctx, devices, spec, USB_PICK, &error)))
                return hd_respond_gerror(req->msg, error);
        if (hd_watch_handle_conditional(req->agent->watch, req->msg))
                return;
        /* the CLI's object, and the generation it belongs to */
        b = json_builder_new();
        hd_usb_json_add_device(b, dev);
        node = json_builder_get_root(b);
        json_object_set_int_member(json_node_get_object(node), "generation",
                                   (gint64)hd_watch_get_generation(req->agent->watch));
        {
                g_autofree char *text = hd_json_node_to_text(node, FALSE);
                hd_respond_json(req->msg, HD_HTTP_OK, text);
        }
}

static void get_usb_xml(HdRequest *req, const HdUsbSpec *spec)
{
        static const char *const params[] = {"force", NULL};
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) devices = NULL;
        g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(JsonBuilder) b = NULL;
        g_autofree char *xml = NULL;
        HdUsbGuestOptions opts = {0};
        HdUsbGuestDevice g = {0};

        if (!query_only(req, params) || !query_bool(req, "force", &opts.force))
                return;
        if (!(devices = usb_devices(req)))
                return;
        if (!hd_usb_guest_prepare(req->agent->ctx, devices, spec, &opts, USB_PICK, &g, warnings,
                                  &error))
                return hd_respond_gerror(req->msg, error);
        xml = hd_usb_guest_xml(&g, 1, warnings);
        b = json_builder_new();
        json_builder_begin_object(b);
        hd_usb_json_add_guest_xml(b, xml, warnings);
        json_builder_end_object(b);
        hd_respond_builder(req->msg, HD_HTTP_OK, b);
}

gboolean hd_api_usb(HdRequest *req)
{
        g_autoptr(GError) error = NULL;
        g_auto(HdUsbSpec) spec = {0};

        if (req->n_segments == 1) {
                if (strcmp(req->method, "GET") == 0 &&
                    !query_only(req, (const char *const[]){"wait", NULL}))
                        return TRUE;
                hd_respond_cached(req, hd_watch_get_usb_json);
                return TRUE;
        }
        if (req->n_segments > 3)
                return FALSE;
        if (req->n_segments == 3 && strcmp(req->segments[2], "xml") != 0) {
                hd_respond_error(req->msg, HD_HTTP_NOT_FOUND, "not-found",
                                 "no \"%s\" of a USB device; GET /v1/usb/{spec} or "
                                 "/v1/usb/{spec}/xml",
                                 req->segments[2]);
                return TRUE;
        }
        if (strcmp(req->method, "GET") != 0) {
                hd_respond_bad_method(req->msg, "GET");
                return TRUE;
        }
        if (!hd_usb_spec_parse(req->segments[1], NULL, &spec, &error)) {
                hd_respond_gerror(req->msg, error);
                return TRUE;
        }
        if (req->n_segments == 2)
                get_usb_device(req, &spec);
        else
                get_usb_xml(req, &spec);
        return TRUE;
}

/* ---- SCSI --------------------------------------------------------------------------------- */

static void get_scsi_device(HdRequest *req, const HdScsiSpec *spec)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdScsiDevice) dev = NULL;
        g_autoptr(JsonBuilder) b = NULL;
        g_autoptr(JsonNode) node = NULL;
        g_autofree char *text = NULL;

        if (!query_only(req, (const char *const[]){NULL}))
                return;
        if (!(dev = hd_scsi_resolve(req->agent->ctx, spec, &error)))
                return hd_respond_gerror(req->msg, error);
        if (hd_watch_handle_conditional(req->agent->watch, req->msg))
                return;
        b = json_builder_new();
        hd_json_add_scsi_device(b, dev);
        node = json_builder_get_root(b);
        json_object_set_int_member(json_node_get_object(node), "generation",
                                   (gint64)hd_watch_get_generation(req->agent->watch));
        text = hd_json_node_to_text(node, FALSE);
        hd_respond_json(req->msg, HD_HTTP_OK, text);
}

static void get_scsi_xml(HdRequest *req, const HdScsiSpec *spec)
{
        static const char *const params[] = {"force", "shareable", "readonly", NULL};
        g_autoptr(GError) error = NULL;
        g_autoptr(HdScsiDevice) dev = NULL;
        g_autoptr(GPtrArray) warnings = NULL;
        g_autoptr(JsonBuilder) b = NULL;
        g_autofree char *xml = NULL;
        HdScsiGuestOptions opts = {0};

        if (!query_only(req, params) || !query_bool(req, "force", &opts.force) ||
            !query_bool(req, "shareable", &opts.shareable) ||
            !query_bool(req, "readonly", &opts.readonly))
                return;
        if (!(dev = hd_scsi_resolve(req->agent->ctx, spec, &error)))
                return hd_respond_gerror(req->msg, error);
        if (!hd_scsi_check(req->agent->ctx, dev, req->segments[1], &opts, &error)) {
                /* a LUN without an sg node is the host's to fix, not a server fault */
                if (g_error_matches(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED))
                        return hd_respond_error(req->msg, HD_HTTP_CONFLICT,
                                                hd_error_code_name(error), "%s", error->message);
                return hd_respond_gerror(req->msg, error);
        }
        warnings = hd_scsi_guest_warnings(spec, dev);
        xml = hd_scsi_hostdev_xml(dev, &opts, 0);
        b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "hostdev_xml");
        json_builder_add_string_value(b, xml);
        json_builder_set_member_name(b, "luns");
        json_builder_begin_array(b);
        hd_json_add_scsi_guest_lun(b, req->segments[1], dev, warnings);
        json_builder_end_array(b);
        json_builder_end_object(b);
        hd_respond_builder(req->msg, HD_HTTP_OK, b);
}

gboolean hd_api_scsi(HdRequest *req)
{
        g_autoptr(GError) error = NULL;
        HdScsiSpec spec;

        if (req->n_segments == 1) {
                if (strcmp(req->method, "GET") == 0 &&
                    !query_only(req, (const char *const[]){"wait", NULL}))
                        return TRUE;
                hd_respond_cached(req, hd_watch_get_scsi_json);
                return TRUE;
        }
        if (req->n_segments > 3)
                return FALSE;
        if (req->n_segments == 3 && strcmp(req->segments[2], "xml") != 0) {
                hd_respond_error(req->msg, HD_HTTP_NOT_FOUND, "not-found",
                                 "no \"%s\" of a SCSI LUN; GET /v1/scsi/{wwid} or "
                                 "/v1/scsi/{wwid}/xml",
                                 req->segments[2]);
                return TRUE;
        }
        if (strcmp(req->method, "GET") != 0) {
                hd_respond_bad_method(req->msg, "GET");
                return TRUE;
        }
        if (!hd_scsi_spec_parse(req->segments[1], &spec, &error)) {
                hd_respond_gerror(req->msg, error);
                return TRUE;
        }
        if (req->n_segments == 2)
                get_scsi_device(req, &spec);
        else
                get_scsi_xml(req, &spec);
        return TRUE;
}

/* ---- NPIV --------------------------------------------------------------------------------- */

typedef struct {
        HdNpivBody b;
        char *name; /* delete */
} NpivArgs;

static void npiv_args_free(gpointer p)
{
        NpivArgs *a = p;

        hd_npiv_body_clear(&a->b);
        g_free(a->name);
        g_free(a);
}

static JsonBuilder *run_npiv_create(HdAgent *agent, HdCtx *ctx, gpointer data, GError **error)
{
        NpivArgs *a = data;
        g_autoptr(HdFcVport) v = NULL;
        JsonBuilder *b;
        char p[19], n[19];

        hd_ctx_set_dry_run(ctx, a->b.dry_run);
        /* generated: different from each other (the library checks the host's names) */
        if (!a->b.wwnn)
                a->b.wwnn = hd_npiv_wwn_generate();
        while (!a->b.wwpn || a->b.wwpn == a->b.wwnn)
                a->b.wwpn = hd_npiv_wwn_generate();
        if (!hd_npiv_create(ctx, a->b.parent, a->b.wwpn, a->b.wwnn, a->b.persist, &v, error))
                return NULL;
        b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "dry_run");
        json_builder_add_boolean_value(b, a->b.dry_run);
        json_builder_set_member_name(b, "wwpn");
        json_builder_add_string_value(b, hd_npiv_wwn_format(a->b.wwpn, p));
        json_builder_set_member_name(b, "wwnn");
        json_builder_add_string_value(b, hd_npiv_wwn_format(a->b.wwnn, n));
        json_builder_set_member_name(b, "persist");
        json_builder_add_boolean_value(b, a->b.persist);
        json_builder_set_member_name(b, "vport");
        if (v)
                hd_json_add_fc_vport(b, v);
        else
                json_builder_add_null_value(b);
        json_builder_end_object(b);
        return b;
}

static JsonBuilder *run_npiv_delete(HdAgent *agent, HdCtx *ctx, gpointer data, GError **error)
{
        NpivArgs *a = data;
        JsonBuilder *b;

        hd_ctx_set_dry_run(ctx, a->b.dry_run);
        if (!hd_npiv_delete(ctx, a->name, a->b.force, error))
                return NULL;
        b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "dry_run");
        json_builder_add_boolean_value(b, a->b.dry_run);
        json_builder_set_member_name(b, "deleted");
        json_builder_add_string_value(b, a->name);
        json_builder_end_object(b);
        return b;
}

static void post_npiv(HdRequest *req, const char *name)
{
        g_autoptr(JsonObject) body = hd_request_json_object(req);
        g_autoptr(GError) error = NULL;
        NpivArgs *args;

        if (!body)
                return;
        args = g_new0(NpivArgs, 1);
        if (!hd_body_parse_npiv(body, name == NULL, &args->b, &error)) {
                npiv_args_free(args);
                return hd_respond_gerror(req->msg, error);
        }
        args->name = g_strdup(name);
        hd_agent_run_op(req, name ? "npiv-delete" : "npiv-create", name ? name : args->b.parent,
                        args->b.dry_run ? HD_OP_READ : HD_OP_CHANGES_DEVICES | HD_OP_CHANGES_HOST,
                        NULL, name ? run_npiv_delete : run_npiv_create, args, npiv_args_free);
}

static void get_npiv(HdRequest *req)
{
        HdCtx *ctx = req->agent->ctx;
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) hosts = NULL;
        g_autoptr(GPtrArray) vports = NULL;
        g_autoptr(GPtrArray) luns = NULL;
        g_autoptr(GPtrArray) records = NULL;
        g_autoptr(JsonBuilder) b = NULL;

        if (!query_only(req, (const char *const[]){NULL}))
                return;
        if (!(hosts = hd_fc_host_list(ctx, &error)) || !(vports = hd_fc_vport_list(ctx, &error)) ||
            !(luns = hd_scsi_list(ctx, &error)) || !(records = hd_npiv_records(ctx, &error)))
                return hd_respond_gerror(req->msg, error);
        b = json_builder_new();
        json_builder_begin_object(b);
        hd_json_add_npiv_list(b, hosts, vports, luns, records);
        json_builder_end_object(b);
        hd_respond_builder(req->msg, HD_HTTP_OK, b);
}

gboolean hd_api_npiv(HdRequest *req)
{
        if (req->n_segments == 1) {
                if (strcmp(req->method, "GET") == 0)
                        get_npiv(req);
                else if (strcmp(req->method, "POST") == 0)
                        post_npiv(req, NULL);
                else
                        hd_respond_bad_method(req->msg, "GET, POST");
                return TRUE;
        }
        if (req->n_segments != 3)
                return FALSE;
        if (strcmp(req->segments[2], "delete") != 0) {
                hd_respond_error(req->msg, HD_HTTP_NOT_FOUND, "not-found",
                                 "no action \"%s\" on vports; use delete", req->segments[2]);
                return TRUE;
        }
        if (strcmp(req->method, "POST") != 0)
                hd_respond_bad_method(req->msg, "POST");
        else
                post_npiv(req, req->segments[1]);
        return TRUE;
}

/* ---- vhost-scsi ----------------------------------------------------------------------------- */

/* Read at every call, as GET /v1/npiv: a target set up in configfs (targetcli, a script) sends
 * no event, so an answer cached on the inventory's generation would miss it. The generation
 * is the inventory's now (the one GET /v1/scsi answers). */
static void get_vhost_list(HdRequest *req)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) targets = NULL;
        g_autoptr(JsonBuilder) b = NULL;

        if (!query_only(req, (const char *const[]){NULL}))
                return;
        if (!(targets = hd_vhost_list(req->agent->ctx, &error)))
                return hd_respond_gerror(req->msg, error);
        b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "generation");
        json_builder_add_int_value(b, (gint64)hd_watch_get_generation(req->agent->watch));
        json_builder_set_member_name(b, "targets");
        json_builder_begin_array(b);
        for (guint i = 0; i < targets->len; i++)
                hd_json_add_vhost_target(b, targets->pdata[i]);
        json_builder_end_array(b);
        json_builder_end_object(b);
        hd_respond_builder(req->msg, HD_HTTP_OK, b);
}

/* `hostdev vhost-scsi xml WWPN --json`: a target that is not ready is 409 refused with what to
 * set up. */
static void get_vhost_xml(HdRequest *req, const char *wwpn)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdVhostTarget) t = NULL;
        g_autoptr(JsonBuilder) b = NULL;
        g_autofree char *xml = NULL;

        if (!query_only(req, (const char *const[]){NULL}))
                return;
        if (!(t = hd_vhost_find(req->agent->ctx, wwpn, &error)))
                return hd_respond_gerror(req->msg, error);
        if (!t->ready)
                return hd_respond_error(req->msg, HD_HTTP_CONFLICT, "refused",
                                        "vhost target %s is not ready: %s; then GET "
                                        "/v1/vhost-scsi",
                                        t->wwpn, t->reason);
        xml = hd_vhost_hostdev_xml(t, 0);
        b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "hostdev_xml");
        json_builder_add_string_value(b, xml);
        json_builder_end_object(b);
        hd_respond_builder(req->msg, HD_HTTP_OK, b);
}

gboolean hd_api_vhost_scsi(HdRequest *req)
{
        if (req->n_segments > 3)
                return FALSE;
        if (req->n_segments == 2 ||
            (req->n_segments == 3 && strcmp(req->segments[2], "xml") != 0)) {
                hd_respond_error(req->msg, HD_HTTP_NOT_FOUND, "not-found",
                                 "no such endpoint; GET /v1/vhost-scsi lists the targets, GET "
                                 "/v1/vhost-scsi/{wwpn}/xml gives one to a VM");
                return TRUE;
        }
        if (strcmp(req->method, "GET") != 0) {
                hd_respond_bad_method(req->msg, "GET");
                return TRUE;
        }
        if (req->n_segments == 1)
                get_vhost_list(req);
        else
                get_vhost_xml(req, req->segments[1]);
        return TRUE;
}
