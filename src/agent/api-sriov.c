/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SR-IOV and mediated devices:
 *   GET  /v1/devices/{pf}/sriov    the PF, its VF count, autoprobe, layout at boot and VFs
 *                                  (hostdev sriov PF --json), with "generation"
 *   POST /v1/devices/{pf}/sriov    {numvfs, autoprobe, persist, dry_run, timeout}: the VF count
 *                                  transaction (hostdev sriov PF --numvfs N --json)
 *   GET  /v1/devices/{vf}/vf-net   a NIC VF's network settings on its PF (MAC, VLAN and QoS,
 *                                  spoof check, trust, link state, TX rates) and whether they
 *                                  are saved for a VM (hostdev sriov-vf VF --json)
 *   PUT  /v1/devices/{vf}/vf-net   {mac, vlan, qos, vlan_proto, spoofchk, trust, link_state,
 *                                  min_tx_rate, max_tx_rate, dry_run}: change them, one netlink
 *                                  request per field, set back when one is refused
 *   GET  /v1/mdev                  {"generation", "parents": [...], "mdevs": [...]}: the mdev
 *                                  parents with their types and capacity, and the instances
 *                                  (hostdev mdev types/list --json); ETag, If-None-Match and
 *                                  ?wait as /v1/devices
 *   POST /v1/mdev                  {parent, type, uuid, persist, dry_run}: create one
 *                                  (hostdev mdev create --json)
 *   POST /v1/mdev/{uuid}/remove    {persist, dry_run}: remove one (hostdev mdev remove --json)
 * The objects are the library's (sriov-json.h, mdev-json.h), so the API and the CLI agree.
 * Changes run as operations (ops.c) that change devices and the host: the inventory's
 * generation moves when they end and a reboot waits for them. A VF count change queues
 * behind operations on the PF's and its VFs' groups.
 */
#include "config.h"

#include <string.h>

#include "agent.h"

/* ---- SR-IOV ------------------------------------------------------------------------------- */

static void get_sriov(HdRequest *req, const HdAddress *addr)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdSriovPf) pf = NULL;
        g_autoptr(JsonBuilder) b = NULL;

        /* 404 / 400 whatever the caller's If-None-Match */
        pf = hd_sriov_pf_load(req->agent->ctx, addr, &error);
        if (!pf)
                return hd_respond_gerror(req->msg, error);
        if (hd_watch_handle_conditional(req->agent->watch, req->msg))
                return;
        b = json_builder_new();
        json_builder_begin_object(b);
        hd_json_add_sriov_pf(b, req->agent->ctx, pf);
        json_builder_set_member_name(b, "generation");
        json_builder_add_int_value(b, (gint64)hd_watch_get_generation(req->agent->watch));
        json_builder_end_object(b);
        hd_respond_builder(req->msg, HD_HTTP_OK, b);
}

typedef struct {
        HdAddress address;
        HdSriovBody b;
} SriovArgs;

static JsonBuilder *run_sriov(HdAgent *agent, HdCtx *ctx, gpointer data, GError **error)
{
        SriovArgs *a = data;
        HdSriovRequest request = {
            .numvfs = (int)a->b.numvfs,
            .autoprobe = a->b.autoprobe,
            .timeout_ms = a->b.timeout_s * 1000,
        };
        g_autoptr(HdSriovReport) r = NULL;
        JsonBuilder *b;

        hd_ctx_set_dry_run(ctx, a->b.dry_run);
        if (!a->b.has_numvfs) {
                /* "autoprobe" alone keeps the count */
                g_autoptr(HdSriovPf) now = hd_sriov_pf_load(ctx, &a->address, error);
                if (!now)
                        return NULL;
                request.numvfs = now->numvfs;
        }
        r = hd_sriov_set_numvfs(ctx, &a->address, &request, error);
        if (!r)
                return NULL;
        if (a->b.persist) {
                /* the layout now, at every boot; 0 VFs is the kernel's own default */
                g_autoptr(HdSriovPersistEntry) at_boot = hd_sriov_persist_get(ctx, r->pf);
                if (r->numvfs_after > 0 &&
                    !hd_sriov_persist_set(ctx, r->pf, r->numvfs_after, r->autoprobe_after, error))
                        return NULL;
                if (r->numvfs_after == 0 && at_boot && !hd_sriov_persist_remove(ctx, r->pf, error))
                        return NULL;
        }
        b = json_builder_new();
        json_builder_begin_object(b);
        hd_json_add_sriov_report(b, ctx, r, a->b.dry_run, a->b.persist);
        json_builder_end_object(b);
        return b;
}

static void post_sriov(HdRequest *req, const HdAddress *addr)
{
        g_autoptr(JsonObject) body = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(HdDevice) dev = NULL;
        g_autoptr(GArray) addrs = NULL;
        SriovArgs *args;

        body = hd_request_json_object(req);
        if (!body)
                return;
        args = g_new0(SriovArgs, 1);
        args->address = *addr;
        if (!hd_body_parse_sriov(body, &args->b, &error)) {
                g_free(args);
                return hd_respond_gerror(req->msg, error);
        }
        /* 404 and 400 (a VF, not a PF) before queueing */
        dev = hd_device_load(req->agent->ctx, addr, HD_FIELD_SRIOV, &error);
        if (!dev) {
                g_free(args);
                return hd_respond_gerror(req->msg, error);
        }
        {
                g_autoptr(HdSriovPf) pf = hd_sriov_pf_load(req->agent->ctx, addr, &error);
                if (!pf) {
                        g_free(args);
                        return hd_respond_gerror(req->msg, error);
                }
        }
        /* the PF's group and its VFs': no detach of a VF runs beside the change */
        addrs = g_array_new(FALSE, FALSE, sizeof(HdAddress));
        g_array_append_val(addrs, *addr);
        for (guint i = 0; i < dev->virtfns->len; i++) {
                HdAddress a;
                if (hd_address_parse_sysfs_name(dev->virtfns->pdata[i], &a))
                        g_array_append_val(addrs, a);
        }
        hd_agent_run_op(req, "sriov", req->segments[1],
                        args->b.dry_run ? HD_OP_READ : HD_OP_CHANGES_DEVICES | HD_OP_CHANGES_HOST,
                        addrs, run_sriov, args, g_free);
}

void hd_api_sriov(HdRequest *req, const HdAddress *addr)
{
        if (strcmp(req->method, "GET") == 0)
                get_sriov(req, addr);
        else if (strcmp(req->method, "POST") == 0)
                post_sriov(req, addr);
        else
                hd_respond_bad_method(req->msg, "GET, POST");
}

/* ---- VF network settings ------------------------------------------------------------------ */

/* A PF without a network interface has no VF network settings: the caller's mistake (400),
 * not the host's failure. */
static void vf_net_error_for_api(GError *error)
{
        if (g_error_matches(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED))
                error->code = HD_ERROR_INVALID_ARGUMENT;
}

/* The VF's PF, index and the PF's settings now. */
static HdVfNetInfo *vf_net_load(HdCtx *ctx, const HdAddress *vf, HdAddress *pf, guint *index,
                                GError **error)
{
        HdVfNetInfo *info;

        if (!hd_vf_net_resolve_vf(ctx, vf, pf, index, error))
                return NULL;
        info = hd_vf_net_read(ctx, pf, error);
        if (!info && error)
                vf_net_error_for_api(*error);
        return info;
}

static JsonBuilder *vf_net_answer(HdCtx *ctx, const HdAddress *vf, const HdAddress *pf, guint index,
                                  const HdVfNetInfo *info)
{
        JsonBuilder *b = json_builder_new();
        char vf_name[HD_ADDRESS_STRLEN];

        json_builder_begin_object(b);
        hd_json_add_vf_net_state(b, ctx, pf, info->netdev, index, hd_address_format(vf, vf_name),
                                 hd_vf_net_info_get(info, index));
        return b;
}

static void get_vf_net(HdRequest *req, const HdAddress *addr)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdVfNetInfo) info = NULL;
        g_autoptr(JsonBuilder) b = NULL;
        HdAddress pf;
        guint index;

        info = vf_net_load(req->agent->ctx, addr, &pf, &index, &error);
        if (!info)
                return hd_respond_gerror(req->msg, error);
        b = vf_net_answer(req->agent->ctx, addr, &pf, index, info);
        json_builder_end_object(b);
        hd_respond_builder(req->msg, HD_HTTP_OK, b);
}

typedef struct {
        HdAddress address;
        HdVfNetBody b;
} VfNetArgs;

static JsonBuilder *run_vf_net(HdAgent *agent, HdCtx *ctx, gpointer data, GError **error)
{
        VfNetArgs *a = data;
        g_autoptr(HdVfNetInfo) info = NULL;
        HdVfNetSettings s = a->b.s;
        const HdVfNet *cur;
        HdAddress pf;
        guint index, changed = 0;
        JsonBuilder *b;

        hd_ctx_set_dry_run(ctx, a->b.dry_run);
        info = vf_net_load(ctx, &a->address, &pf, &index, error);
        if (!info)
                return NULL;
        /* a TX rate left out keeps the PF's value */
        cur = hd_vf_net_info_get(info, index);
        if (s.has_rate && !a->b.has_min_rate)
                s.min_tx_rate = cur ? cur->min_tx_rate : 0;
        if (s.has_rate && !a->b.has_max_rate)
                s.max_tx_rate = cur ? cur->max_tx_rate : 0;
        if (!hd_vf_net_set(ctx, &pf, index, &s, &changed, error)) {
                vf_net_error_for_api(*error);
                return NULL;
        }
        if (!a->b.dry_run) {
                /* what the PF says now */
                hd_vf_net_info_free(g_steal_pointer(&info));
                if (!(info = hd_vf_net_read(ctx, &pf, error)))
                        return NULL;
        }
        b = vf_net_answer(ctx, &a->address, &pf, index, info);
        json_builder_set_member_name(b, "changed");
        json_builder_add_int_value(b, changed);
        json_builder_set_member_name(b, "dry_run");
        json_builder_add_boolean_value(b, a->b.dry_run);
        hd_json_add_write_log(b, ctx);
        json_builder_end_object(b);
        return b;
}

static void put_vf_net(HdRequest *req, const HdAddress *addr)
{
        g_autoptr(JsonObject) body = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GArray) addrs = NULL;
        VfNetArgs *args;
        HdAddress pf;
        guint index;

        body = hd_request_json_object(req);
        if (!body)
                return;
        args = g_new0(VfNetArgs, 1);
        args->address = *addr;
        /* 400 (not a VF) and 404 before queueing */
        if (!hd_body_parse_vf_net(body, &args->b, &error) ||
            !hd_vf_net_resolve_vf(req->agent->ctx, addr, &pf, &index, &error)) {
                g_free(args);
                return hd_respond_gerror(req->msg, error);
        }
        addrs = g_array_new(FALSE, FALSE, sizeof(HdAddress));
        g_array_append_val(addrs, *addr);
        /* the settings are part of GET .../sriov, whose ETag is the generation: move it */
        hd_agent_run_op(req, "vf-net", req->segments[1],
                        args->b.dry_run ? HD_OP_READ : HD_OP_CHANGES_DEVICES | HD_OP_CHANGES_HOST,
                        addrs, run_vf_net, args, g_free);
}

void hd_api_vf_net(HdRequest *req, const HdAddress *addr)
{
        if (strcmp(req->method, "GET") == 0)
                get_vf_net(req, addr);
        else if (strcmp(req->method, "PUT") == 0)
                put_vf_net(req, addr);
        else
                hd_respond_bad_method(req->msg, "GET, PUT");
}

/* ---- mediated devices --------------------------------------------------------------------- */

typedef struct {
        HdMdevBody b;
        char uuid[HD_MDEV_UUID_STRLEN]; /* remove */
} MdevArgs;

static void mdev_args_free(gpointer p)
{
        MdevArgs *a = p;

        hd_mdev_body_clear(&a->b);
        g_free(a);
}

static JsonBuilder *run_mdev_create(HdAgent *agent, HdCtx *ctx, gpointer data, GError **error)
{
        MdevArgs *a = data;
        g_autofree char *parent = NULL;
        g_autofree char *made = NULL;
        JsonBuilder *b;

        hd_ctx_set_dry_run(ctx, a->b.dry_run);
        parent = hd_mdev_resolve_parent(ctx, a->b.parent, error);
        if (!parent ||
            !hd_mdev_create(ctx, parent, a->b.type, a->b.uuid, a->b.persist, &made, error))
                return NULL;
        b = json_builder_new();
        json_builder_begin_object(b);
        hd_json_add_mdev_result(b, ctx, made, parent, a->b.type, a->b.persist);
        json_builder_end_object(b);
        return b;
}

static JsonBuilder *run_mdev_remove(HdAgent *agent, HdCtx *ctx, gpointer data, GError **error)
{
        MdevArgs *a = data;
        JsonBuilder *b;

        hd_ctx_set_dry_run(ctx, a->b.dry_run);
        if (!hd_mdev_remove(ctx, a->uuid, a->b.persist, error))
                return NULL;
        b = json_builder_new();
        json_builder_begin_object(b);
        hd_json_add_mdev_result(b, ctx, a->uuid, NULL, NULL, a->b.persist);
        json_builder_end_object(b);
        return b;
}

static void post_mdev(HdRequest *req, const char *uuid)
{
        g_autoptr(JsonObject) body = NULL;
        g_autoptr(GError) error = NULL;
        MdevArgs *args;

        body = hd_request_json_object(req);
        if (!body)
                return;
        args = g_new0(MdevArgs, 1);
        if (!hd_body_parse_mdev(body, uuid == NULL, &args->b, &error)) {
                mdev_args_free(args);
                return hd_respond_gerror(req->msg, error);
        }
        if (uuid)
                g_strlcpy(args->uuid, uuid, sizeof(args->uuid));
        hd_agent_run_op(req, uuid ? "mdev-remove" : "mdev-create", uuid ? uuid : args->b.parent,
                        args->b.dry_run ? HD_OP_READ : HD_OP_CHANGES_DEVICES | HD_OP_CHANGES_HOST,
                        NULL, uuid ? run_mdev_remove : run_mdev_create, args, mdev_args_free);
}

gboolean hd_api_mdev(HdRequest *req)
{
        if (req->n_segments == 1) {
                if (strcmp(req->method, "GET") == 0)
                        hd_respond_cached(req, hd_watch_get_mdev_json);
                else if (strcmp(req->method, "POST") == 0)
                        post_mdev(req, NULL);
                else
                        hd_respond_bad_method(req->msg, "GET, POST");
                return TRUE;
        }
        if (req->n_segments != 3)
                return FALSE;
        if (!hd_mdev_uuid_parse(req->segments[1], NULL)) {
                hd_respond_error(req->msg, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                 "%s is not a UUID in canonical form (8-4-4-4-12 lowercase hex "
                                 "digits); GET /v1/mdev lists the mediated devices",
                                 req->segments[1]);
                return TRUE;
        }
        if (strcmp(req->segments[2], "remove") != 0) {
                hd_respond_error(req->msg, HD_HTTP_NOT_FOUND, "not-found",
                                 "no action \"%s\" on mediated devices; use remove",
                                 req->segments[2]);
                return TRUE;
        }
        if (strcmp(req->method, "POST") != 0)
                hd_respond_bad_method(req->msg, "POST");
        else
                post_mdev(req, req->segments[1]);
        return TRUE;
}
