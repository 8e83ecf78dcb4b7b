/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdev-fleetsim: many hostdevd agents in one process, for the engine's benchmark
 * (bench/engine/run, bench/README.md "The engine at 1,000 hosts").
 *
 *   hostdev-fleetsim --root TREE [--hosts N] [--private M] [--base-port P] [-v]
 *
 * Each simulated host is an HdAgent of src/agent (agent.h) served by the agent's own server
 * (server.c on src/http, its own loopback port) and answering through the agent's own
 * handlers, serializers, ETags and long polls (api-*.c, inventory-watch.c) on the sim backend:
 * nothing of the API is written again here, so the answers cannot drift from hostdevd's
 * (tests/test-fleetsim.c compares them byte for byte).
 *
 * What one process adds to make a thousand of them fit:
 *   - shared hosts (all but --private M) read one tree, TREE, through one HdCtx and one HdWatch:
 *     the inventory is scanned and serialized once for all of them, one inotify set watches
 *     the tree, one timer rechecks the facts without events (inventory-watch.c), and their
 *     long polls wait in that watch's list. They are read-only agents (opts.read_only: 403 on
 *     every mutating call), since a change would be every shared host's change;
 *   - private hosts (M of them, spread evenly over the indices: i * N / M) each get a copy of
 *     TREE (cp -a into a temporary directory, removed at exit) with their own HdCtx and
 *     HdWatch: they are full agents, and a driver change on one of them is made through its
 *     own API (POST /v1/devices/{address}/detach or attach with its token), which moves that
 *     host's generation and answers its long polls exactly as hostdevd does;
 *   - every host has its own tokens (32 random bytes, hex, in memory only), metrics and
 *     per-group queue;
 *   - RLIMIT_NOFILE is raised to its hard limit (each host holds a listening socket and an
 *     epoll descriptor, plus its clients' connections).
 *
 * Output, on stdout, once every host listens (the agent's own "listening URL" lines are
 * swallowed): one line per host
 *     host INDEX URL TOKEN READ_ONLY_TOKEN shared|private
 * then "ready N". The process runs until SIGTERM or SIGINT, or, when its stdin is a pipe, until
 * the pipe's end of file (a benchmark that dies takes the simulator with it), then answers the
 * waiting long polls 304 as hostdevd does when it stops, and exits 0.
 */
#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"

typedef struct {
        HdAgent agent;
        gboolean private_tree;
} SimHost;

typedef struct {
        GMainLoop *loop;
        HdAgent base;      /* not served: owns the shared HdCtx and HdWatch */
        GPtrArray *hosts;  /* SimHost* */
        char *private_dir; /* holds the private trees; removed at exit */
        gboolean stopping;
} Fleet;

static void quiet_print(const gchar *string)
{
        /* hd_agent_server_start() prints "listening URL" for a supervisor: the fleet prints its
         * own list instead */
}

static gboolean random_hex(char **out, GError **error)
{
        guint8 raw[32];
        gsize got = 0;
        GString *s = g_string_sized_new(65);

        while (got < sizeof(raw)) {
                ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
                if (n < 0) {
                        int e = errno;
                        if (e == EINTR)
                                continue;
                        g_string_free(s, TRUE);
                        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                                    "cannot get random bytes for a token: %s", g_strerror(e));
                        return FALSE;
                }
                got += (gsize)n;
        }
        for (gsize i = 0; i < sizeof(raw); i++)
                g_string_append_printf(s, "%02x", raw[i]);
        *out = g_string_free(s, FALSE);
        return TRUE;
}

static void raise_nofile(void)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
                        g_printerr("hostdev-fleetsim: cannot raise RLIMIT_NOFILE: %s\n",
                                   g_strerror(errno));
        }
}

/* What hostdevd's main() and config.c set up before serving, for one agent. */
static void agent_init(HdAgent *a, const char *root, GMainLoop *loop, gboolean read_only,
                       const char *listen)
{
        a->opts.root = g_strdup(root);
        a->opts.backend = g_strdup("sim");
        a->opts.listen = g_strdup(listen);
        a->opts.libvirt_uri = g_strdup("test:///default");
        a->opts.images_dir = g_strdup("/var/lib/libvirt/images");
        a->opts.stop_timeout = 120;
        a->opts.read_only = read_only;
        a->opts.max_connections = 512;
        a->opts.max_per_peer = 64;
        a->opts.idle_timeout = 30;
        a->backend = HD_BACKEND_SIM;
        a->loop = loop;
        g_mutex_init(&a->virt_lock);
        g_mutex_init(&a->groups_lock);
        g_mutex_init(&a->state_lock);
        g_mutex_init(&a->kernel_args_lock);
        g_cond_init(&a->groups_cond);
        a->busy_groups = g_hash_table_new(NULL, NULL);
        a->busy_vms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

/* Frees what agent_init() and the caller set; @owns_tree: the ctx and watch are this agent's. */
static void agent_clear(HdAgent *a, gboolean owns_tree)
{
        g_clear_pointer(&a->server, hd_http_server_free);
        if (owns_tree) {
                g_clear_pointer(&a->watch, hd_watch_free);
                g_clear_pointer(&a->ctx, hd_ctx_free);
        }
        g_clear_pointer(&a->metrics, hd_metrics_free);
        g_clear_pointer(&a->virt, hd_virt_close);
        g_clear_pointer(&a->busy_groups, g_hash_table_unref);
        g_clear_pointer(&a->busy_vms, g_hash_table_unref);
        g_free(a->root);
        g_free(a->virt_error);
        if (a->token)
                explicit_bzero(a->token, strlen(a->token));
        if (a->ro_token)
                explicit_bzero(a->ro_token, strlen(a->ro_token));
        g_free(a->token);
        g_free(a->ro_token);
        g_mutex_clear(&a->virt_lock);
        g_mutex_clear(&a->groups_lock);
        g_mutex_clear(&a->state_lock);
        g_mutex_clear(&a->kernel_args_lock);
        g_cond_clear(&a->groups_cond);
        hd_agent_options_clear(&a->opts);
}

static gboolean copy_tree(const char *from, const char *to, GError **error)
{
        const char *argv[] = {"cp", "-a", "--", from, to, NULL};
        int status = 0;

        if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                          &status, error))
                return FALSE;
        if (!g_spawn_check_wait_status(status, error)) {
                g_prefix_error(error, "cannot copy %s to %s: ", from, to);
                return FALSE;
        }
        return TRUE;
}

static gboolean host_start(Fleet *f, guint index, gboolean private_tree, guint base_port,
                           GError **error)
{
        SimHost *h = g_new0(SimHost, 1);
        HdAgent *a = &h->agent;
        g_autofree char *listen =
            g_strdup_printf("127.0.0.1:%u", base_port ? base_port + index : 0);
        g_autofree char *root = NULL;

        h->private_tree = private_tree;
        g_ptr_array_add(f->hosts, h);
        if (private_tree) {
                root = g_strdup_printf("%s/host-%u", f->private_dir, index);
                if (!copy_tree(f->base.root, root, error))
                        return FALSE;
        }
        agent_init(a, private_tree ? root : f->base.root, f->loop, !private_tree, listen);
        if (private_tree) {
                a->ctx = hd_agent_ctx_new(a, error);
                if (!a->ctx)
                        return FALSE;
                a->root = g_strdup(hd_ctx_get_root(a->ctx));
                a->watch = hd_watch_new(a);
        } else {
                a->ctx = f->base.ctx;
                a->root = g_strdup(f->base.root);
                a->watch = f->base.watch;
        }
        a->metrics = hd_metrics_new();
        if (!random_hex(&a->token, error) || !random_hex(&a->ro_token, error))
                return FALSE;
        return hd_agent_server_start(a, error);
}

static void fleet_stop(Fleet *f)
{
        if (f->stopping)
                return;
        f->stopping = TRUE;
        /* as hostdevd on SIGTERM: stop accepting, answer the long polls 304 */
        for (guint i = 0; i < f->hosts->len; i++) {
                SimHost *h = f->hosts->pdata[i];
                h->agent.stopping = TRUE;
                hd_agent_server_stop_accepting(&h->agent);
                if (h->private_tree)
                        hd_watch_release_waiters(h->agent.watch);
        }
        if (f->base.watch)
                hd_watch_release_waiters(f->base.watch);
        g_main_loop_quit(f->loop);
}

static gboolean on_signal(gpointer data)
{
        fleet_stop(data);
        return G_SOURCE_CONTINUE;
}

static gboolean on_stdin(gint fd, GIOCondition cond, gpointer data)
{
        char buf[256];
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n > 0 || (n < 0 && errno == EINTR))
                return G_SOURCE_CONTINUE;
        fleet_stop(data);
        return G_SOURCE_REMOVE;
}

static guint inflight(Fleet *f)
{
        guint n = 0;

        for (guint i = 0; i < f->hosts->len; i++)
                n += ((SimHost *)f->hosts->pdata[i])->agent.inflight;
        return n;
}

int main(int argc, char **argv)
{
        Fleet f = {0};
        g_autoptr(GError) error = NULL;
        g_autofree char *root_arg = NULL;
        gint n_hosts = 1000, n_private = -1, base_port = 0;
        gboolean verbose = FALSE;
        const GOptionEntry entries[] = {
            {"root", 0, 0, G_OPTION_ARG_FILENAME, &root_arg,
             "The machine tree every host serves (bench/gen-tree.py fleet DIR)", "DIR"},
            {"hosts", 'n', 0, G_OPTION_ARG_INT, &n_hosts, "Simulated hosts (default 1000)", "N"},
            {"private", 0, 0, G_OPTION_ARG_INT, &n_private,
             "Hosts with a copy of the tree of their own, whose drivers can change through "
             "their API (default 10, at most --hosts)",
             "M"},
            {"base-port", 0, 0, G_OPTION_ARG_INT, &base_port,
             "Host i listens on 127.0.0.1:P+i (default 0: ports the kernel picks)", "P"},
            {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log every request", NULL},
            {NULL},
        };
        g_autoptr(GOptionContext) octx =
            g_option_context_new("- many hostdevd agents in one process");
        guint64 last_private = G_MAXUINT64;
        int rc = 0;

        setlocale(LC_ALL, "");
        signal(SIGPIPE, SIG_IGN);
        g_option_context_add_main_entries(octx, entries, NULL);
        if (!g_option_context_parse(octx, &argc, &argv, &error)) {
                g_printerr("hostdev-fleetsim: %s (see --help)\n", error->message);
                return 2;
        }
        if (n_private == -1)
                n_private = MIN(10, n_hosts);
        if (!root_arg || n_hosts < 1 || n_hosts > 60000 || n_private < 0 || n_private > n_hosts ||
            base_port < 0 || base_port + n_hosts > 65536) {
                g_printerr("hostdev-fleetsim: give --root DIR, 1 <= --hosts <= 60000, "
                           "0 <= --private <= --hosts and ports below 65536 (see --help)\n");
                return 2;
        }
        raise_nofile();
        hd_agent_set_verbose(verbose);
        f.loop = g_main_loop_new(NULL, FALSE);
        f.hosts = g_ptr_array_new();

        /* the shared tree: one context and one watch for every shared host */
        agent_init(&f.base, root_arg, f.loop, TRUE, "127.0.0.1:0");
        f.base.ctx = hd_agent_ctx_new(&f.base, &error);
        if (!f.base.ctx) {
                g_printerr("hostdev-fleetsim: cannot open %s: %s\n", root_arg, error->message);
                rc = 1;
                goto out;
        }
        f.base.root = g_strdup(hd_ctx_get_root(f.base.ctx));
        f.base.watch = hd_watch_new(&f.base);
        if (n_private > 0) {
                g_autofree char *tmpl = g_build_filename(
                    g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : g_get_tmp_dir(),
                    "hostdev-fleetsim-XXXXXX", NULL);
                f.private_dir = g_mkdtemp(g_steal_pointer(&tmpl));
                if (!f.private_dir) {
                        g_printerr("hostdev-fleetsim: cannot make a directory for the private "
                                   "trees: %s\n",
                                   g_strerror(errno));
                        rc = 1;
                        goto out;
                }
        }

        /* before the "ready" line: a supervisor may signal as soon as it reads it */
        g_unix_signal_add(SIGTERM, on_signal, &f);
        g_unix_signal_add(SIGINT, on_signal, &f);
        g_set_print_handler(quiet_print);
        for (gint i = 0; i < n_hosts; i++) {
                /* M private hosts spread evenly: i * M / N steps at i = ceil(k * N / M) */
                guint64 slot =
                    n_private ? (guint64)i * (guint64)n_private / (guint64)n_hosts : G_MAXUINT64;
                gboolean priv = n_private > 0 && slot != last_private;

                if (priv)
                        last_private = slot;
                if (!host_start(&f, (guint)i, priv, (guint)base_port, &error)) {
                        g_set_print_handler(NULL);
                        g_printerr("hostdev-fleetsim: host %d: %s\n", i, error->message);
                        rc = 1;
                        goto out;
                }
        }
        g_set_print_handler(NULL);
        for (guint i = 0; i < f.hosts->len; i++) {
                SimHost *h = f.hosts->pdata[i];
                printf("host %u %s %s %s %s\n", i, hd_http_server_get_url(h->agent.server),
                       h->agent.token, h->agent.ro_token, h->private_tree ? "private" : "shared");
        }
        printf("ready %u\n", f.hosts->len);
        fflush(stdout);

        {
                struct stat st;
                if (fstat(STDIN_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
                        g_unix_fd_add(STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, &f);
        }
        g_main_loop_run(f.loop);
        /* operations running in threads finish (each is a journaled transaction) */
        while (inflight(&f) > 0)
                g_main_context_iteration(NULL, TRUE);
        while (g_main_context_iteration(NULL, FALSE))
                ;

out:
        for (guint i = 0; i < f.hosts->len; i++) {
                SimHost *h = f.hosts->pdata[i];
                agent_clear(&h->agent, h->private_tree);
                g_free(h);
        }
        g_ptr_array_unref(f.hosts);
        agent_clear(&f.base, TRUE);
        if (f.private_dir) {
                const char *rm[] = {"rm", "-rf", "--", f.private_dir, NULL};
                g_spawn_sync(NULL, (char **)rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                             NULL, NULL);
                g_free(f.private_dir);
        }
        g_main_loop_unref(f.loop);
        return rc;
}
