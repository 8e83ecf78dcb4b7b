/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Operations that touch the host run in a GTask thread with their own HdCtx (a context is
 * not thread-safe), while the request waits paused; the answer is set back on the main
 * thread.
 *
 * Serialization. The library's per-group flock (lock.h) never waits: a second transaction on
 * a locked group fails with HD_ERROR_BUSY. That is right between processes (the CLI says who
 * is in the way), but two API callers of this agent asking for the same group should simply
 * be served one after the other. So the agent keeps its own queue: an operation first marks
 * the IOMMU groups of the devices it names as busy in this process, waiting while another
 * thread holds any of them (all-or-nothing, so two operations never deadlock), and only then
 * calls the library, whose flock then keeps the CLI out (and answers 409 busy when the CLI
 * holds the group). Operations on different groups run in parallel.
 */
#include "config.h"

#include "agent.h"

static void log_from_lib(HdLogLevel level, const char *message, gpointer user_data)
{
        hd_agent_log(level == HD_LOG_WARNING ? "warning"
                     : level == HD_LOG_INFO  ? "info"
                                             : "debug",
                     message, NULL);
}

HdCtx *hd_agent_ctx_new(HdAgent *agent, GError **error)
{
        HdCtx *ctx = hd_ctx_new(agent->opts.root, agent->backend, error);

        if (ctx)
                hd_ctx_set_log_func(ctx, log_from_lib, agent);
        if (ctx) /* hints name the API's fields, not the CLI's flags (hint.h) */
                hd_ctx_set_vocabulary(ctx, HD_VOCABULARY_API);
        return ctx;
}

static gint cmp_int(gconstpointer a, gconstpointer b)
{
        return *(const int *)a - *(const int *)b;
}

GArray *hd_agent_groups_of(HdCtx *ctx, const HdAddress *addresses, guint n)
{
        GArray *groups = g_array_new(FALSE, FALSE, sizeof(int));

        for (guint i = 0; i < n; i++) {
                g_autoptr(HdDevice) dev = hd_device_load(ctx, &addresses[i], HD_FIELD_IOMMU, NULL);
                gboolean seen = FALSE;

                if (!dev || dev->iommu_group < 0)
                        continue;
                for (guint j = 0; j < groups->len && !seen; j++)
                        seen = g_array_index(groups, int, j) == dev->iommu_group;
                if (!seen)
                        g_array_append_val(groups, dev->iommu_group);
        }
        g_array_sort(groups, cmp_int);
        return groups;
}

void hd_agent_groups_acquire(HdAgent *agent, GArray *groups)
{
        g_mutex_lock(&agent->groups_lock);
        for (;;) {
                gboolean all_free = TRUE;
                for (guint i = 0; i < groups->len && all_free; i++)
                        all_free = !g_hash_table_contains(
                            agent->busy_groups, GINT_TO_POINTER(g_array_index(groups, int, i) + 1));
                if (all_free)
                        break;
                g_cond_wait(&agent->groups_cond, &agent->groups_lock);
        }
        for (guint i = 0; i < groups->len; i++)
                g_hash_table_add(agent->busy_groups,
                                 GINT_TO_POINTER(g_array_index(groups, int, i) + 1));
        g_mutex_unlock(&agent->groups_lock);
}

void hd_agent_groups_release(HdAgent *agent, GArray *groups)
{
        g_mutex_lock(&agent->groups_lock);
        for (guint i = 0; i < groups->len; i++)
                g_hash_table_remove(agent->busy_groups,
                                    GINT_TO_POINTER(g_array_index(groups, int, i) + 1));
        g_cond_broadcast(&agent->groups_cond);
        g_mutex_unlock(&agent->groups_lock);
}

typedef struct {
        HdAgent *agent;
        HdHttpRequest *msg; /* suspended until the answer */
        char *op_name;
        char *target; /* device or VM, for the log */
        HdOpKind kind;
        GArray *addresses; /* HdAddress, may be NULL */
        HdOpFunc func;
        gpointer data;
        GDestroyNotify data_free;
        JsonBuilder *result;
        GError *error;
        char *holder; /* the answer's "holder" (an in-use refusal) */
        gint64 started;
} Op;

/* Set by an operation in its thread, taken into its Op when it returns. */
static _Thread_local char *op_holder;

void hd_agent_op_set_holder(const char *vm)
{
        g_free(op_holder);
        op_holder = g_strdup(vm);
}

static void op_free(Op *op)
{
        hd_http_request_unref(op->msg);
        g_free(op->op_name);
        g_free(op->target);
        if (op->addresses)
                g_array_unref(op->addresses);
        if (op->data_free)
                op->data_free(op->data);
        g_clear_object(&op->result);
        g_clear_error(&op->error);
        g_free(op->holder);
        g_free(op);
}

static void op_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancel)
{
        Op *op = task_data;
        g_autoptr(HdCtx) ctx = hd_agent_ctx_new(op->agent, &op->error);
        g_autoptr(GArray) groups = NULL;

        if (!ctx)
                return;
        if (op->addresses && op->addresses->len) {
                groups = hd_agent_groups_of(ctx, (const HdAddress *)op->addresses->data,
                                            op->addresses->len);
                hd_agent_groups_acquire(op->agent, groups);
        }
        {
                gint now = g_atomic_int_add(&op->agent->running, 1) + 1;
                gint max = g_atomic_int_get(&op->agent->running_max);
                while (now > max &&
                       !g_atomic_int_compare_and_exchange(&op->agent->running_max, max, now))
                        max = g_atomic_int_get(&op->agent->running_max);
        }
        if (op->agent->test_op_delay_ms)
                g_usleep(op->agent->test_op_delay_ms * 1000);
        g_clear_pointer(&op_holder, g_free);
        op->result = op->func(op->agent, ctx, op->data, &op->error);
        op->holder = g_steal_pointer(&op_holder);
        g_atomic_int_add(&op->agent->running, -1);
        if (groups)
                hd_agent_groups_release(op->agent, groups);
}

static void op_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
        Op *op = g_task_get_task_data(G_TASK(res));
        HdAgent *agent = op->agent;
        gboolean ok = op->result != NULL;
        char ms[32];

        if (op->kind & HD_OP_CHANGES_DEVICES)
                hd_watch_bump(agent->watch, op->op_name);
        hd_metrics_operation(agent->metrics, op->op_name, ok);
        g_snprintf(ms, sizeof(ms), "%.3f", (g_get_monotonic_time() - op->started) / 1000.0);
        if (ok)
                hd_agent_log("info", "operation done", "op", op->op_name, "target", op->target,
                             "ms", ms, NULL);
        else
                hd_agent_log("info", "operation failed", "op", op->op_name, "target", op->target,
                             "code", hd_respond_code_name(op->error), "error", op->error->message,
                             "ms", ms, NULL);
        /* (a peer that went away meanwhile is noticed by the HTTP layer after the resume) */
        if (ok)
                hd_respond_builder(op->msg, HD_HTTP_OK, op->result);
        else
                hd_respond_gerror_holder(op->msg, op->error, op->holder);
        hd_http_request_resume(op->msg);
        agent->inflight--;
        if (op->kind & HD_OP_CHANGES_HOST)
                agent->mutations--;
        if (agent->stopping && agent->inflight == 0)
                g_main_loop_quit(agent->loop);
}

void hd_agent_run_op(HdRequest *req, const char *op_name, const char *target, HdOpKind kind,
                     GArray *addresses, HdOpFunc func, gpointer data, GDestroyNotify data_free)
{
        Op *op = g_new0(Op, 1);
        g_autoptr(GTask) task = g_task_new(NULL, NULL, op_done, NULL);

        op->agent = req->agent;
        op->msg = hd_http_request_ref(req->msg);
        op->op_name = g_strdup(op_name);
        op->target = g_strdup(target ? target : "-");
        op->kind = kind;
        op->addresses = addresses ? g_array_ref(addresses) : NULL;
        op->func = func;
        op->data = data;
        op->data_free = data_free;
        op->started = g_get_monotonic_time();
        req->agent->inflight++;
        if (kind & HD_OP_CHANGES_HOST)
                req->agent->mutations++;
        hd_http_request_suspend(req->msg);
        g_task_set_task_data(task, op, (GDestroyNotify)op_free);
        g_task_run_in_thread(task, op_thread);
}

/* ---- the bind report, as `hostdev detach --json` prints it -------------------------------- */

HdVirt *hd_agent_get_virt(HdAgent *agent, GError **error)
{
        if (!agent->virt) {
                agent->virt = hd_virt_open(agent->opts.libvirt_uri, error);
                if (!agent->virt)
                        g_prefix_error(error, "libvirt (%s): ",
                                       agent->opts.libvirt_uri ? agent->opts.libvirt_uri
                                                               : "qemu:///system");
        }
        return agent->virt;
}
