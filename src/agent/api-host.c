/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host:
 *   GET /v1/host          identity (hostname, machine id, boot id, CPU vendor, kernel),
 *                         readiness (the `hostdev check` results) and the kernel arguments
 *   POST /v1/host/reboot  a clean reboot (hd_ctx_reboot: systemd on a live root, the sim's
 *                         reboot on a tree), answered 202 with the boot id before it happens;
 *                         refused while an operation runs or another reboot is pending, and
 *                         with the real backend on any root but "/" (it would restart the
 *                         machine the agent runs on, not the tree). Whoever asked sees the
 *                         reboot done when GET /v1/host answers another boot_id.
 *   GET /v1/kernel-args   running / configured / desired command lines
 *   PUT /v1/kernel-args   {enable, disable, custom, remove, dry_run}: plan and apply through the
 *                         bootloader; answers reboot_required
 *
 * Readiness and kernel arguments come from the library's host and cmdline modules (host.h,
 * cmdline.h): "readiness" is the object of `hostdev check --json` and the kernel arguments
 * that of `hostdev kernel-args --json`, each with "available": true (false, with "error", when
 * the bootloader's configuration cannot be read: the rest of the host is still answered).
 */
#include "config.h"

#include <string.h>

#include "agent.h"
#include "fileio.h"

static char *read_root_file(HdCtx *ctx, const char *path)
{
        /* Below the root, resolved inside it, regular files only, bounded (fileio.h). */
        g_autofree char *text = hd_read_file_at(hd_ctx_get_root_fd(ctx), path, 65536, NULL);

        if (!text)
                return NULL;
        g_strstrip(text);
        if (!*text || !g_utf8_validate(text, -1, NULL))
                return NULL;
        return g_steal_pointer(&text);
}

static void add_kernel_args(JsonBuilder *b, const HdKernelArgs *args)
{
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "available");
        json_builder_add_boolean_value(b, TRUE);
        hd_json_add_string_or_null(b, "bootloader", hd_bootloader_kind_to_string(args->bootloader));
        {
                /* absolute, as `hostdev kernel-args --json` prints it */
                g_autofree char *abs =
                    args->config_path ? g_strconcat("/", args->config_path, NULL) : NULL;
                hd_json_add_string_or_null(b, "config_path", abs);
        }
        hd_json_add_string_list(b, "running", args->running);
        hd_json_add_string_list(b, "configured", args->configured);
        hd_json_add_string_list(b, "desired", args->desired);
        hd_json_add_string_list(b, "added", args->added);
        hd_json_add_string_list(b, "removed", args->removed);
        hd_json_add_string_list(b, "notes", args->notes);
        json_builder_set_member_name(b, "reboot_required");
        json_builder_add_boolean_value(b, args->reboot_required);
        json_builder_set_member_name(b, "applied");
        json_builder_add_boolean_value(b, args->applied);
        hd_json_add_kernel_args_changes(b, args);
        json_builder_end_object(b);
}

static gboolean add_kernel_args_current(JsonBuilder *b, HdCtx *ctx, GError **error)
{
        HdKernelArgsRequest request = {0};
        g_autoptr(HdKernelArgs) args = hd_kernel_args_plan(ctx, &request, error);

        if (!args)
                return FALSE;
        add_kernel_args(b, args);
        return TRUE;
}

static void get_host(HdRequest *req)
{
        HdCtx *ctx = req->agent->ctx;
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *hostname = read_root_file(ctx, "etc/hostname");
        g_autofree char *machine_id = read_root_file(ctx, "etc/machine-id");

        if (!hostname)
                hostname = read_root_file(ctx, "proc/sys/kernel/hostname");
        if (!hostname && hd_ctx_is_live_root(ctx))
                hostname = g_strdup(g_get_host_name());
        json_builder_begin_object(b);
        hd_json_add_string_or_null(b, "hostname", hostname);
        hd_json_add_string_or_null(b, "machine_id", machine_id);
        {
                g_autofree char *boot_id = hd_host_get_boot_id(ctx);
                hd_json_add_string_or_null(b, "boot_id", boot_id);
        }
        hd_json_add_string_or_null(b, "root", hd_ctx_get_root(ctx));
        hd_json_add_string_or_null(b, "backend", hd_backend_kind_to_string(hd_ctx_get_backend_kind(ctx)));
        json_builder_set_member_name(b, "agent_version");
        json_builder_add_string_value(b, HOSTDEV_VERSION);
        json_builder_set_member_name(b, "iommu_groups");
        json_builder_add_boolean_value(b, hd_host_has_iommu_groups(ctx));
        {
                g_autoptr(HdHostReport) report = hd_host_check(ctx, &error);
                if (!report)
                        return hd_respond_gerror(req->msg, error);
                hd_json_add_string_or_null(b, "cpu_vendor", hd_cpu_vendor_to_string(report->cpu_vendor));
                hd_json_add_string_or_null(b, "kernel", report->kernel_release);
                json_builder_set_member_name(b, "readiness");
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "available");
                json_builder_add_boolean_value(b, TRUE);
                /* "readiness" is `hostdev check --json` plus "available" */
                hd_json_add_host_report(b, report);
                json_builder_end_object(b);
        }
        json_builder_set_member_name(b, "kernel_args");
        if (!add_kernel_args_current(b, ctx, &error)) {
                /* an unreadable bootloader config must not hide the rest of the host */
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "available");
                json_builder_add_boolean_value(b, FALSE);
                hd_json_add_string_or_null(b, "error", error->message);
                json_builder_end_object(b);
        }
        json_builder_end_object(b);
        hd_respond_builder(req->msg, HD_HTTP_OK, b);
}

static void args_op_free(gpointer p)
{
        hd_kernel_args_body_clear(p);
        g_free(p);
}

static JsonBuilder *run_kernel_args(HdAgent *agent, HdCtx *ctx, gpointer data, GError **error)
{
        HdKernelArgsBody *a = data;
        HdKernelArgsRequest request = {
            .enable = a->enable, .disable = a->disable, .custom = a->custom, .remove = a->remove};
        g_autoptr(HdKernelArgs) args = NULL;
        JsonBuilder *b;
        gboolean ok;

        hd_ctx_set_dry_run(ctx, a->dry_run);
        /* plan and apply under one lock: two callers must not edit the bootloader's file
         * from the same starting point */
        g_mutex_lock(&agent->kernel_args_lock);
        args = hd_kernel_args_plan(ctx, &request, error);
        ok = args && (a->dry_run || hd_kernel_args_apply(ctx, args, error));
        g_mutex_unlock(&agent->kernel_args_lock);
        if (!ok)
                return NULL;
        b = json_builder_new();
        add_kernel_args(b, args);
        return b;
}

static void put_kernel_args(HdRequest *req)
{
        g_autoptr(JsonObject) body = hd_request_json_object(req);
        g_autoptr(GError) error = NULL;
        HdKernelArgsBody *a;

        if (!body)
                return;
        a = g_new0(HdKernelArgsBody, 1);
        if (!hd_body_parse_kernel_args(body, a, &error)) {
                hd_respond_gerror(req->msg, error);
                hd_kernel_args_body_clear(a);
                g_free(a);
                return;
        }
        hd_agent_run_op(req, "kernel-args", NULL, a->dry_run ? HD_OP_READ : HD_OP_CHANGES_HOST,
                        NULL, run_kernel_args, a, args_op_free);
}

/* ---- POST /v1/host/reboot ---- */

static void reboot_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
        HdAgent *agent = data;
        GError *error = NULL;
        g_autoptr(HdCtx) ctx = hd_agent_ctx_new(agent, &error);

        if (ctx && hd_ctx_reboot(ctx, &error))
                g_task_return_boolean(task, TRUE);
        else
                g_task_return_error(task, error);
}

static void reboot_done(GObject *source, GAsyncResult *res, gpointer data)
{
        HdAgent *agent = data;
        g_autoptr(GError) error = NULL;

        agent->reboot_pending = FALSE;
        if (!g_task_propagate_boolean(G_TASK(res), &error)) {
                hd_agent_log("warning", "reboot failed", "error", error->message, NULL);
                return;
        }
        hd_agent_log("info",
                     agent->backend == HD_BACKEND_SIM ? "rebooted the tree (sim)"
                                                      : "reboot queued with systemd",
                     NULL);
        /* the sim booted the tree again in this process: what the kernel shows may differ
         * (IOMMU groups); a real reboot ends this process before it gets here */
        hd_watch_bump(agent->watch, "reboot");
}

static gboolean reboot_start(gpointer data)
{
        HdAgent *agent = data;
        g_autoptr(GTask) task = g_task_new(NULL, NULL, reboot_done, agent);

        g_task_set_task_data(task, agent, NULL);
        g_task_run_in_thread(task, reboot_thread);
        return G_SOURCE_REMOVE;
}

static void post_reboot(HdRequest *req)
{
        static const char *const members[] = {NULL};
        HdAgent *agent = req->agent;
        g_autoptr(JsonObject) body = hd_request_json_object(req);
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonBuilder) b = NULL;
        g_autofree char *boot_id = NULL;

        if (!body)
                return;
        if (!hd_body_check_members(body, members, &error))
                return hd_respond_gerror(req->msg, error);
        if (agent->backend == HD_BACKEND_REAL && !hd_ctx_is_live_root(agent->ctx))
                return hd_respond_error(
                    req->msg, HD_HTTP_CONFLICT, "refused",
                    "hostdevd serves the tree %s with the real backend: a reboot would restart "
                    "this machine, not the tree; run the agent with --backend sim",
                    hd_ctx_get_root(agent->ctx));
        if (agent->reboot_pending)
                return hd_respond_error(req->msg, HD_HTTP_CONFLICT, "refused",
                                        "a reboot of this host is already under way; watch "
                                        "GET /v1/host for a new boot_id");
        /* reads (a readiness check the engine runs after a kernel-args apply) do not hold a
         * reboot back; changes to the host do */
        if (agent->mutations > 0)
                return hd_respond_error(req->msg, HD_HTTP_CONFLICT, "refused",
                                        "%u operation(s) are changing this host; reboot once "
                                        "they are done",
                                        agent->mutations);
        agent->reboot_pending = TRUE;
        boot_id = hd_host_get_boot_id(agent->ctx);
        b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "rebooting");
        json_builder_add_boolean_value(b, TRUE);
        hd_json_add_string_or_null(b, "boot_id", boot_id);
        json_builder_end_object(b);
        hd_respond_builder(req->msg, 202, b);
        hd_agent_log("info", "reboot requested", "boot_id", boot_id ? boot_id : "unknown", NULL);
        /* after the answer has left: systemd stops this agent as one of its first steps.
         * HOSTDEVD_TEST_REBOOT_DELAY_MS holds the reboot back (tests of a reboot that does
         * not come back) */
        g_timeout_add(
            200 + (guint)MIN(
                      g_ascii_strtoull(g_getenv("HOSTDEVD_TEST_REBOOT_DELAY_MS") ?: "0", NULL, 10),
                      G_MAXINT32),
            reboot_start, agent);
}

gboolean hd_api_host(HdRequest *req)
{
        if (req->n_segments == 2 && strcmp(req->segments[0], "host") == 0 &&
            strcmp(req->segments[1], "reboot") == 0) {
                if (strcmp(req->method, "POST") != 0)
                        hd_respond_bad_method(req->msg, "POST");
                else
                        post_reboot(req);
                return TRUE;
        }
        if (req->n_segments != 1)
                return FALSE;
        if (strcmp(req->segments[0], "host") == 0) {
                if (strcmp(req->method, "GET") != 0)
                        hd_respond_bad_method(req->msg, "GET");
                else
                        get_host(req);
                return TRUE;
        }
        if (strcmp(req->method, "GET") == 0) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                g_autoptr(GError) error = NULL;

                if (!add_kernel_args_current(b, req->agent->ctx, &error))
                        hd_respond_gerror(req->msg, error);
                else
                        hd_respond_builder(req->msg, HD_HTTP_OK, b);
        } else if (strcmp(req->method, "PUT") == 0) {
                put_kernel_args(req);
        } else {
                hd_respond_bad_method(req->msg, "GET, PUT");
        }
        return TRUE;
}
