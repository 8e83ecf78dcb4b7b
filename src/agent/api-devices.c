/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Devices and groups:
 *   GET  /v1/devices                     {"generation", "devices": [DEVICE...]}  (hostdev list
 * --json) GET  /v1/devices/{address}           DEVICE with detail and its "group"       (hostdev
 * show --json) GET  /v1/groups                      {"generation", "groups": [GROUP...]} (hostdev
 * groups --json) POST /v1/devices/{address}/detach    {group, dry_run, force, persist} (hostdev
 * detach --json) POST /v1/devices/{address}/attach    {group, dry_run, driver} (hostdev attach
 * --json) POST /v1/devices/{address}/verify    {}                                      (hostdev
 * verify --json) GET|POST /v1/devices/{address}/sriov and GET|PUT .../vf-net: api-sriov.c. The objects are the library's (json-export.h), so the API and the CLI's --json
 * agree.
 */
#include "config.h"

#include <string.h>

#include "agent.h"
#include "fileio.h"

void hd_respond_cached(HdRequest *req, HdWatchGetFunc get)
{
        g_autoptr(GError) error = NULL;
        GBytes *json;

        const char *wait = req->query ? g_hash_table_lookup(req->query, "wait") : NULL;
        guint64 seconds = 0;

        if (strcmp(req->method, "GET") != 0)
                return hd_respond_bad_method(req->msg, "GET");
        if (wait && !g_ascii_string_to_unsigned(wait, 10, 0, 300, &seconds, NULL))
                return hd_respond_error(req->msg, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                        "wait=%s: give the seconds to wait for a change, 0..300",
                                        wait);
        if (hd_watch_handle_conditional(req->agent->watch, req->msg)) {
                /* the caller has the current generation: wait for the next one if asked */
                if (seconds > 0)
                        hd_watch_wait(req->agent->watch, req->msg, (guint)seconds, get);
                return;
        }
        json = get(req->agent->watch, &error);
        if (!json)
                return hd_respond_gerror(req->msg, error);
        /* the generation's bytes, referenced by the answer, not copied */
        hd_http_respond_bytes(req->msg, HD_HTTP_OK, "application/json", json);
}

static void get_device(HdRequest *req, const HdAddress *addr)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdDevice) dev = NULL;
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) node = NULL;
        g_autofree char *text = NULL;
        g_autoptr(GPtrArray) members = NULL;
        g_autoptr(HdGroup) group = NULL;
        JsonObject *obj;

        if (strcmp(req->method, "GET") != 0)
                return hd_respond_bad_method(req->msg, "GET");
        /* a missing device is 404 whatever the caller's If-None-Match (even "*") */
        dev = hd_device_load(req->agent->ctx, addr, 0, &error);
        if (!dev)
                return hd_respond_gerror(req->msg, error);
        g_clear_pointer(&dev, hd_device_free);
        if (hd_watch_handle_conditional(req->agent->watch, req->msg))
                return;
        dev = hd_device_load(req->agent->ctx, addr, HD_FIELDS_ALL, &error);
        if (!dev)
                return hd_respond_gerror(req->msg, error);
        /* the group first: loading it decides the device's state too (state.h) */
        group = hd_iommu_group_load(req->agent->ctx, dev, &members);
        hd_json_add_device(b, dev, TRUE);
        node = json_builder_get_root(b);
        obj = json_node_get_object(node);
        /* what the host does with it now, as `hostdev show --json` says */
        hd_json_set_host_use(obj, req->agent->ctx, dev);
        hd_json_set_device_extras(obj, req->agent->ctx, dev);
        if (group) {
                g_autoptr(JsonBuilder) gb = json_builder_new();

                hd_json_add_group(gb, group);
                json_object_set_member(obj, "group", json_builder_get_root(gb));
        } else {
                json_object_set_null_member(obj, "group");
        }
        json_object_set_int_member(obj, "interrupted_operations",
                                   hd_state_count_interrupted(req->agent->ctx));
        json_object_set_int_member(obj, "generation",
                                   (gint64)hd_watch_get_generation(req->agent->watch));
        text = hd_json_node_to_text(node, FALSE);
        hd_respond_json(req->msg, HD_HTTP_OK, text);
}

typedef struct {
        HdAddress address;
        HdBindArgs b;
} BindArgs;

static void bind_args_free(gpointer p)
{
        BindArgs *a = p;

        hd_bind_args_clear(&a->b);
        g_free(a);
}

/* The answer of a detach or attach: the same object the CLI prints with --json. */
static JsonBuilder *bind_answer(HdCtx *ctx, HdBindReport *report)
{
        JsonBuilder *b = json_builder_new();

        json_builder_begin_object(b);
        hd_json_add_bind_report(b, ctx, report);
        json_builder_end_object(b);
        return b;
}

static JsonBuilder *run_detach(HdAgent *agent, HdCtx *ctx, gpointer data, GError **error)
{
        BindArgs *a = data;
        HdBindOptions opts = {.group = a->b.group, .force = a->b.force, .persist = a->b.persist};
        g_autoptr(HdBindReport) report = NULL;

        hd_ctx_set_dry_run(ctx, a->b.dry_run);
        report = hd_bind_detach(ctx, &a->address, 1, &opts, error);
        return report ? bind_answer(ctx, report) : NULL;
}

static JsonBuilder *run_attach(HdAgent *agent, HdCtx *ctx, gpointer data, GError **error)
{
        BindArgs *a = data;
        HdBindOptions opts = {.group = a->b.group,
                              .force = a->b.force,
                              .driver = a->b.driver,
                              .keep_persist = a->b.keep_persist};
        g_autoptr(HdBindReport) report = NULL;

        hd_ctx_set_dry_run(ctx, a->b.dry_run);
        report = hd_bind_attach(ctx, &a->address, 1, &opts, error);
        return report ? bind_answer(ctx, report) : NULL;
}

static JsonBuilder *run_verify(HdAgent *agent, HdCtx *ctx, gpointer data, GError **error)
{
        BindArgs *a = data;
        HdVfioInfo info;
        char name[HD_ADDRESS_STRLEN];
        JsonBuilder *b;

        hd_vfio_info_init(&info);
        if (!hd_vfio_verify(ctx, &a->address, &info, error)) {
                hd_vfio_info_clear(&info);
                return NULL;
        }
        b = json_builder_new();
        hd_json_add_vfio_info(b, hd_address_format(&a->address, name), &info);
        hd_vfio_info_clear(&info);
        return b;
}

static void post_action(HdRequest *req, const HdAddress *addr, const char *action)
{
        gboolean is_detach = strcmp(action, "detach") == 0;
        gboolean is_attach = strcmp(action, "attach") == 0;
        g_autoptr(JsonObject) body = NULL;
        g_autoptr(GArray) addrs = NULL;
        g_autoptr(HdDevice) dev = NULL;
        g_autoptr(GError) error = NULL;
        BindArgs *args;

        if (!is_detach && !is_attach && strcmp(action, "verify") != 0) {
                hd_respond_error(req->msg, HD_HTTP_NOT_FOUND, "not-found",
                                 "no action \"%s\" on devices; use detach, attach or verify",
                                 action);
                return;
        }
        if (strcmp(req->method, "POST") != 0)
                return hd_respond_bad_method(req->msg, "POST");
        body = hd_request_json_object(req);
        if (!body)
                return;
        args = g_new0(BindArgs, 1);
        args->address = *addr;
        if (!hd_body_parse_bind(body, action, &args->b, &error)) {
                hd_respond_gerror(req->msg, error);
                bind_args_free(args);
                return;
        }
        /* 404 before queueing: an unknown device is the caller's mistake, not a conflict */
        dev = hd_device_load(req->agent->ctx, addr, 0, &error);
        if (!dev) {
                hd_respond_gerror(req->msg, error);
                bind_args_free(args);
                return;
        }
        if (is_attach && !args->b.dry_run && args->b.force == 0) {
                char name[HD_ADDRESS_STRLEN];
                g_autofree char *vm =
                    hd_agent_vm_holding(req->agent, hd_address_format(addr, name));
                if (vm) {
                        hd_respond_error(req->msg, HD_HTTP_CONFLICT, "refused",
                                         "%s was detached for VM %s; stop the VM (POST "
                                         "/v1/vms/%s/stop) and the agent gives it back, or "
                                         "attach with \"force\": true",
                                         name, vm, vm);
                        bind_args_free(args);
                        return;
                }
        }
        addrs = g_array_new(FALSE, FALSE, sizeof(HdAddress));
        g_array_append_val(addrs, *addr);
        hd_agent_run_op(req, action, req->segments[1],
                        !args->b.dry_run && (is_detach || is_attach)
                            ? HD_OP_CHANGES_DEVICES | HD_OP_CHANGES_HOST
                            : HD_OP_READ,
                        addrs,
                        is_detach   ? run_detach
                        : is_attach ? run_attach
                                    : run_verify,
                        args, bind_args_free);
}

gboolean hd_api_devices(HdRequest *req)
{
        g_autoptr(GError) error = NULL;
        HdAddress addr;

        if (strcmp(req->segments[0], "groups") == 0) {
                if (req->n_segments != 1)
                        return FALSE;
                hd_respond_cached(req, hd_watch_get_groups_json);
                return TRUE;
        }
        if (req->n_segments == 1) {
                hd_respond_cached(req, hd_watch_get_devices_json);
                return TRUE;
        }
        if (req->n_segments > 3)
                return FALSE;
        if (!hd_address_parse(req->segments[1], &addr, &error)) {
                hd_respond_gerror(req->msg, error);
                return TRUE;
        }
        if (req->n_segments == 2)
                get_device(req, &addr);
        else if (strcmp(req->segments[2], "sriov") == 0)
                hd_api_sriov(req, &addr);
        else if (strcmp(req->segments[2], "vf-net") == 0)
                hd_api_vf_net(req, &addr);
        else
                post_action(req, &addr, req->segments[2]);
        return TRUE;
}
