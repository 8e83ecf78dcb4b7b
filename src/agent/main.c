/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevd: options, recovery of interrupted transactions, then serving until SIGTERM/SIGINT.
 *
 * Order at start (the first answer must never see a half-done transaction):
 *   1. open the root; 2. recover every interrupted bind journal (journal.h); 3. settle the
 *   VM records (vm-record.h): give back the devices of VMs that stopped while the agent was
 *   down or whose start was interrupted, complete the record of interrupted starts whose VM
 *   runs; 4. load or create the tokens; 5. listen, and print "listening URL" on stdout.
 * On SIGTERM the agent stops accepting, lets running operations finish (each is a journaled
 * transaction), and exits 0.
 */
#include "config.h"

#include <glib-unix.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent.h"

static gboolean on_signal(gpointer user_data)
{
        HdAgent *agent = user_data;
        char n[16];

        if (agent->stopping)
                return G_SOURCE_CONTINUE;
        agent->stopping = TRUE;
        g_snprintf(n, sizeof(n), "%u", agent->inflight);
        hd_agent_log("info", "stopping", "operations_running", n, NULL);
        hd_agent_server_stop_accepting(agent);
        hd_watch_release_waiters(agent->watch);
        if (agent->inflight == 0)
                g_main_loop_quit(agent->loop);
        return G_SOURCE_CONTINUE;
}

static int fail(const char *what, const GError *error)
{
        hd_agent_log("error", what, "error", error->message, NULL);
        return error->domain == HD_ERROR && error->code == HD_ERROR_INVALID_ARGUMENT ? 2 : 1;
}

int main(int argc, char **argv)
{
        HdAgent agent = {0};
        g_autoptr(GError) error = NULL;
        guint n_recovered = 0;
        const char *delay;
        int rc = 0;

        setlocale(LC_ALL, "");
        signal(SIGPIPE, SIG_IGN);
        if (!hd_agent_options_parse(&agent.opts, &argc, &argv, &error)) {
                fprintf(stderr, "hostdevd: %s (see --help)\n", error->message);
                hd_agent_options_clear(&agent.opts); /* what was parsed before the error */
                return 2;
        }
        hd_agent_set_verbose(agent.opts.verbose);
        agent.backend = HD_BACKEND_AUTO;
        if (agent.opts.backend &&
            !hd_backend_kind_from_string(agent.opts.backend, &agent.backend)) {
                fprintf(stderr, "hostdevd: --backend %s is not a backend; use real, sim or auto\n",
                        agent.opts.backend);
                return 2;
        }
        g_mutex_init(&agent.virt_lock);
        g_mutex_init(&agent.groups_lock);
        g_mutex_init(&agent.state_lock);
        g_mutex_init(&agent.kernel_args_lock);
        g_mutex_init(&agent.usbscsi_lock);
        g_cond_init(&agent.groups_cond);
        agent.busy_groups = g_hash_table_new(NULL, NULL);
        agent.busy_vms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        delay = g_getenv("HOSTDEVD_TEST_OP_DELAY_MS");
        if (delay)
                agent.test_op_delay_ms = (guint)MIN(g_ascii_strtoull(delay, NULL, 10), 10000);

        agent.ctx = hd_agent_ctx_new(&agent, &error);
        if (!agent.ctx) {
                rc = fail("cannot open the root", error);
                goto out;
        }
        agent.root = g_strdup(hd_ctx_get_root(agent.ctx));
        hd_agent_log("info", "starting", "version", HOSTDEV_VERSION, "root", agent.root, "backend",
                     hd_backend_kind_to_string(hd_ctx_get_backend_kind(agent.ctx)), NULL);

        if (agent.opts.read_only) {
                char n[16];
                g_snprintf(n, sizeof(n), "%u", hd_journal_count_pending(agent.ctx));
                hd_agent_log("info", "read-only: journal recovery left to `hostdev recover`",
                             "pending", n, NULL);
        } else if (!hd_journal_recover(agent.ctx, &n_recovered, &error)) {
                /* Devices the journal could not restore stay named in it; serving the API
                 * lets the admin see them, so this is a warning, not an exit. */
                hd_agent_log("warning", "journal recovery incomplete", "error", error->message,
                             NULL);
                g_clear_error(&error);
        } else {
                char n[16];
                g_snprintf(n, sizeof(n), "%u", n_recovered);
                hd_agent_log("info", "journal recovery done", "recovered", n, NULL);
        }

        agent.metrics = hd_metrics_new();
        agent.loop = g_main_loop_new(NULL, FALSE);
        agent.watch = hd_watch_new(&agent);
        if (!agent.opts.read_only)
                hd_agent_vms_reconcile(&agent);

        if (!hd_agent_tokens_load(&agent, &error)) {
                rc = fail("cannot load the tokens", error);
                goto out;
        }
        /* before the "listening" line: a supervisor may signal as soon as it reads it */
        g_unix_signal_add(SIGTERM, on_signal, &agent);
        g_unix_signal_add(SIGINT, on_signal, &agent);
        if (!hd_agent_server_start(&agent, &error)) {
                rc = fail("cannot serve", error);
                goto out;
        }
        g_main_loop_run(agent.loop);
        /* let the last answers be written before the connections close */
        while (g_main_context_iteration(NULL, FALSE))
                ;
        hd_agent_server_stop(&agent);
        hd_agent_log("info", "stopped", NULL);

out:
        g_clear_pointer(&agent.server, hd_http_server_free);
        g_clear_pointer(&agent.watch, hd_watch_free);
        g_clear_pointer(&agent.metrics, hd_metrics_free);
        g_clear_pointer(&agent.loop, g_main_loop_unref);
        g_clear_pointer(&agent.virt, hd_virt_close);
        g_clear_pointer(&agent.ctx, hd_ctx_free);
        g_clear_pointer(&agent.busy_groups, g_hash_table_unref);
        g_clear_pointer(&agent.busy_vms, g_hash_table_unref);
        g_free(agent.root);
        g_free(agent.virt_error);
        if (agent.token)
                explicit_bzero(agent.token, strlen(agent.token));
        if (agent.ro_token)
                explicit_bzero(agent.ro_token, strlen(agent.ro_token));
        g_free(agent.token);
        g_free(agent.ro_token);
        hd_agent_options_clear(&agent.opts);
        return rc;
}
