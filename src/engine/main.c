/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdev-engine [OPTIONS]                      serve the API and sync the hosts
 * hostdev-engine [--db PATH | --database CONNINFO] token create NAME --role admin|viewer
 *                                                 (prints the token once)
 * hostdev-engine [--db PATH | --database CONNINFO] token list
 * hostdev-engine [--db PATH | --database CONNINFO] token revoke NAME
 * hostdev-engine [--url URL] hosts|vms|events ...   the API client (client.h, client*.c)
 *
 * Options come from the command line over a GKeyFile (data/hostdev-engine.conf, group
 * [engine], keys named like the long options: db, database, listen, tls-cert, tls-key, replica,
 * web-root, poll-wait, retry-max, max-connections, max-connections-per-peer, idle-timeout); a
 * value given on the command line wins (--db or --database there drops the file's other one).
 * The database: --db PATH, SQLite (the default), or --database CONNINFO, PostgreSQL (a
 * postgresql:// or postgres:// URI or a libpq keyword string; db-pg.c). The start:
 * 1. options; 2. open and migrate the store; 3. listen, print
 * "listening URL" on stdout; 4. start every host's sync; 5. run until SIGTERM/SIGINT (exit 0).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>

#include "client.h"
#include "engine.h"
#include "fileio.h"
#include "vms.h"

#define DEFAULT_DB "/var/lib/hostdev-engine/engine.db"
#define DEFAULT_CONFIG "/etc/hostdev/hostdev-engine.conf"

static int fail(const char *what, const GError *error)
{
        fprintf(stderr, "hostdev-engine: %s: %s\n", what, error->message);
        return 1;
}

static gboolean load_config(HdEngineOptions *o, const char *path, gboolean must_exist,
                            GError **error)
{
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) local = NULL;
        g_autofree char *data = hd_read_path(path, 64 * 1024, &local);
        struct {
                const char *key;
                char **target;
        } strings[] = {{"replica", &o->replica},
                       {"web-root", &o->web_root},
                       {"db", &o->db_path},
                       {"database", &o->database},
                       {"listen", &o->listen},
                       {"tls-cert", &o->tls_cert},
                       {"tls-key", &o->tls_key}};
        struct {
                const char *key;
                guint *target;
                guint max;
        } numbers[] = {{"poll-wait", &o->poll_wait, 300},
                       {"retry-max", &o->retry_max, 3600},
                       {"max-connections", &o->max_connections, 65536},
                       {"max-connections-per-peer", &o->max_per_peer, 65536},
                       {"idle-timeout", &o->idle_timeout, 3600}};

        if (!data) {
                if (!must_exist && g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
                        return TRUE;
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "cannot read the configuration %s: %s", path, local->message);
                return FALSE;
        }
        if (!g_key_file_load_from_data(kf, data, (gsize)-1, G_KEY_FILE_NONE, &local)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s: %s", path,
                            local->message);
                return FALSE;
        }
        for (guint i = 0; i < G_N_ELEMENTS(strings); i++) {
                g_autofree char *v = g_key_file_get_string(kf, "engine", strings[i].key, NULL);
                if (v && !*strings[i].target)
                        *strings[i].target = g_steal_pointer(&v);
        }
        for (guint i = 0; i < G_N_ELEMENTS(numbers); i++) {
                g_autofree char *v = g_key_file_get_string(kf, "engine", numbers[i].key, NULL);
                guint64 n;
                if (!v || *numbers[i].target)
                        continue;
                if (!g_ascii_string_to_unsigned(v, 10, 1, numbers[i].max, &n, NULL)) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                    "%s: %s=%s: give a number from 1 to %u", path, numbers[i].key,
                                    v, numbers[i].max);
                        return FALSE;
                }
                *numbers[i].target = (guint)n;
        }
        return TRUE;
}

/* ---- token subcommands ---- */

/* The store on the database the options name: PostgreSQL with --database, else SQLite. */
static HdStore *open_store(const HdEngineOptions *o, GError **error)
{
        if (o->database)
                return hd_store_open_pg(o->database, error);
        return hd_store_open_sqlite(o->db_path, error);
}

static int token_main(const HdEngineOptions *o, int argc, char **argv)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdStore) store = NULL;
        const char *sub = argc > 1 ? argv[1] : NULL;

        if (!sub || (strcmp(sub, "create") != 0 && strcmp(sub, "list") != 0 &&
                     strcmp(sub, "revoke") != 0)) {
                fprintf(stderr, "usage: hostdev-engine token create NAME --role admin|viewer | "
                                "list | revoke NAME\n");
                return 2;
        }
        if (strcmp(sub, "list") == 0 && argc != 2) {
                fprintf(stderr, "hostdev-engine: token list takes no arguments\n");
                return 2;
        }
        if (strcmp(sub, "revoke") == 0 && argc != 3) {
                fprintf(stderr, "usage: hostdev-engine token revoke NAME\n");
                return 2;
        }
        if (strcmp(sub, "create") == 0 &&
            (argc != 5 || strcmp(argv[3], "--role") != 0 ||
             (strcmp(argv[4], "admin") != 0 && strcmp(argv[4], "viewer") != 0))) {
                fprintf(stderr, "usage: hostdev-engine token create NAME --role admin|viewer\n");
                return 2;
        }
        if (strcmp(sub, "list") != 0 && !hd_engine_name_valid(argv[2])) {
                fprintf(stderr,
                        "hostdev-engine: token name \"%s\": use 1 to 64 of A-Z a-z 0-9 "
                        ". _ - (not starting with . or -)\n",
                        g_utf8_validate(argv[2], -1, NULL) ? argv[2] : "?");
                return 2;
        }
        store = open_store(o, &error);
        if (!store)
                return fail("cannot open the database", error);
        if (strcmp(sub, "list") == 0) {
                g_autoptr(GPtrArray) tokens = hd_store_tokens_list(store, &error);
                if (!tokens)
                        return fail("token list", error);
                for (guint i = 0; i < tokens->len; i++) {
                        const HdToken *t = tokens->pdata[i];
                        printf("%s\t%s\t%s\n", t->name, t->role, t->created_at);
                }
                return 0;
        }
        if (strcmp(sub, "revoke") == 0) {
                if (!hd_store_token_revoke(store, argv[2], &error) ||
                    !hd_store_event_add(store, "cli", "token.revoke", argv[2], "ok", "revoked",
                                        &error))
                        return fail("token revoke", error);
                return 0;
        }
        {
                guint8 raw[32];
                g_autofree char *token = NULL;
                g_autofree char *hash = NULL;
                GString *hex = g_string_new(NULL);

                if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
                        fprintf(stderr, "hostdev-engine: getrandom failed\n");
                        return 1;
                }
                for (guint i = 0; i < sizeof(raw); i++)
                        g_string_append_printf(hex, "%02x", raw[i]);
                explicit_bzero(raw, sizeof(raw));
                token = g_string_free(hex, FALSE);
                hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, token, -1);
                if (!hd_store_token_add(store, argv[2], argv[4], hash, &error) ||
                    !hd_store_event_add(store, "cli", "token.create", argv[2], "ok", argv[4],
                                        &error))
                        return fail("token create", error);
                /* the only time the token is shown: the store keeps its hash */
                printf("%s\n", token);
                explicit_bzero(token, strlen(token));
                return 0;
        }
}

/* ---- serving ---- */

static gboolean on_signal(gpointer data)
{
        g_main_loop_quit(data);
        return G_SOURCE_CONTINUE;
}

static void on_sync_event(const char *host_id, const char *action, const char *result,
                          const char *message, gpointer user_data)
{
        HdEngine *e = user_data;
        g_autofree char *object = g_strdup_printf("host %s", host_id);

        hd_engine_event(e, "engine", action, object, result, message);
        hd_engine_log(e, strcmp(result, "ok") == 0 ? "debug" : "info", "%s %s: %s", object, action,
                      message);
}

static void options_clear(HdEngineOptions *o)
{
        g_free(o->db_path);
        g_free(o->database);
        g_free(o->listen);
        g_free(o->tls_cert);
        g_free(o->tls_key);
        g_free(o->replica);
        g_free(o->web_root);
        memset(o, 0, sizeof(*o));
}

static int serve(HdEngine *e);

static gboolean print_version(const char *name, const char *value, gpointer data, GError **error)
{
        printf("hostdev-engine %s\n", HOSTDEV_VERSION);
        exit(0);
}

int main(int argc, char **argv)
{
        HdEngine e = {.web_fd = -1};
        g_autoptr(GError) error = NULL;
        g_autofree char *config = NULL;
        gint poll_wait = 0, retry_max = 0;
        GOptionEntry entries[] = {
            {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config,
             "Configuration file (default " DEFAULT_CONFIG ")", "FILE"},
            {"db", 0, 0, G_OPTION_ARG_FILENAME, &e.opts.db_path,
             "SQLite database (default " DEFAULT_DB ")", "PATH"},
            {"database", 0, 0, G_OPTION_ARG_STRING, &e.opts.database,
             "PostgreSQL database instead: a postgresql:// URI or a libpq keyword string",
             "CONNINFO"},
            {"listen", 'l', 0, G_OPTION_ARG_STRING, &e.opts.listen,
             "Address to listen on (default 127.0.0.1:8087)", "ADDR:PORT"},
            {"tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &e.opts.tls_cert, "PEM certificate", "FILE"},
            {"tls-key", 0, 0, G_OPTION_ARG_FILENAME, &e.opts.tls_key, "PEM key", "FILE"},
            {"poll-wait", 0, 0, G_OPTION_ARG_INT, &poll_wait,
             "Seconds an agent holds a long poll (default 60)", "N"},
            {"retry-max", 0, 0, G_OPTION_ARG_INT, &retry_max,
             "Longest retry backoff for a non-responsive host (default 60)", "SECONDS"},
            {"web-root", 0, 0, G_OPTION_ARG_FILENAME, &e.opts.web_root,
             "The portal's files (default " HOSTDEV_WEB_DIR ")", "DIR"},
            {"replica", 0, 0, G_OPTION_ARG_STRING, &e.opts.replica,
             "This replica's name in the sync leases (default: the host name)", "NAME"},
            {"verbose", 'v', 0, G_OPTION_ARG_NONE, &e.opts.verbose, "Log every request", NULL},
            {"version", 'V', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, print_version,
             "Print the version and exit", NULL},
            {NULL},
        };
        g_autoptr(GOptionContext) ctx =
            g_option_context_new("[token create NAME --role admin|viewer | token list | token "
                                 "revoke NAME] - the hostdev fleet manager");
        int rc = 0;
        int client;

        setlocale(LC_ALL, "");
        /* hosts|vms|events ...: the API client (client.h), with options of its own */
        client = hd_client_command_index(argc, argv);
        if (client > 0)
                return hd_client_main(argc, argv, client);
        g_option_context_set_description(
            ctx, "The API client (a running engine; 'hostdev-engine hosts --help' and so on):\n"
                 "  hosts   list, show, add, edit, remove, refresh, devices, groups, kernel-args,\n"
                 "          maintenance, reboot, activate\n"
                 "  vms     list, show, create, edit, delete, add-device, remove-device, start,\n"
                 "          stop, destroy\n"
                 "  events  the audit log, --follow");
        g_option_context_add_main_entries(ctx, entries, NULL);
        /* "token create NAME --role R": the subcommand's own arguments are not options */
        g_option_context_set_strict_posix(ctx, TRUE);
        if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
                fprintf(stderr, "hostdev-engine: %s\n", error->message);
                return 2;
        }
        if ((poll_wait && (poll_wait < 1 || poll_wait > 300)) ||
            (retry_max && (retry_max < 1 || retry_max > 3600))) {
                fprintf(stderr, "hostdev-engine: --poll-wait is 1..300, --retry-max 1..3600\n");
                return 2;
        }
        e.opts.poll_wait = (guint)poll_wait;
        e.opts.retry_max = (guint)retry_max;
        if (e.opts.db_path && e.opts.database) {
                fprintf(stderr, "hostdev-engine: give --db PATH (SQLite) or --database CONNINFO "
                                "(PostgreSQL), not both\n");
                return 2;
        }
        /* one given on the command line: the file's other one does not apply */
        if (e.opts.db_path)
                e.opts.database = g_strdup("");
        else if (e.opts.database)
                e.opts.db_path = g_strdup("");
        if (!load_config(&e.opts, config ? config : DEFAULT_CONFIG, config != NULL, &error)) {
                rc = fail("configuration", error);
        } else {
                if (e.opts.database && !*e.opts.database)
                        g_clear_pointer(&e.opts.database, g_free);
                if (e.opts.db_path && !*e.opts.db_path)
                        g_clear_pointer(&e.opts.db_path, g_free);
                if (!e.opts.db_path && !e.opts.database)
                        e.opts.db_path = g_strdup(DEFAULT_DB);
                if (e.opts.db_path && e.opts.database) {
                        fprintf(stderr, "hostdev-engine: the configuration gives both db and "
                                        "database: keep one\n");
                        rc = 2;
                } else if (argc > 1 && strcmp(argv[1], "token") == 0) {
                        rc = token_main(&e.opts, argc - 1, argv + 1);
                } else if (argc > 1) {
                        fprintf(stderr, "hostdev-engine: unknown command \"%s\" (see --help)\n",
                                g_utf8_validate(argv[1], -1, NULL) ? argv[1] : "?");
                        rc = 2;
                } else {
                        rc = serve(&e);
                }
        }
        options_clear(&e.opts);
        return rc;
}

/* Every up host holds a socket (its long poll), and more while it syncs: a soft limit of
 * 1,024 descriptors (a shell's usual one) runs out at about 1,000 hosts. The systemd unit sets
 * LimitNOFILE; started otherwise, the engine takes the hard limit it is allowed. */
static void raise_nofile(HdEngine *e)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
                return;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
                hd_engine_log(e, "warning", "cannot raise the descriptor limit to %lu: %s",
                              (unsigned long)rl.rlim_max, g_strerror(errno));
}

static int serve(HdEngine *e)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *replica = NULL;
        guint leftover_timer = 0;
        int rc = 0;

        raise_nofile(e);

        if (!e->opts.listen)
                e->opts.listen = g_strdup("127.0.0.1:8087");
        if (!e->opts.poll_wait)
                e->opts.poll_wait = 60;
        if (!e->opts.retry_max)
                e->opts.retry_max = 60;
        if (!e->opts.web_root)
                e->opts.web_root = g_strdup(HOSTDEV_WEB_DIR);
        hd_engine_web_open(e);

        e->store = open_store(&e->opts, &error);
        if (!e->store)
                return fail("cannot open the database", error);
        e->loop = g_main_loop_new(NULL, FALSE);
        e->vm_ops = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        /* The lease owner: stable across restarts, so a restarted (or killed) engine takes its
         * hosts back at once instead of waiting for its own leases to expire. Two replicas on
         * one machine need distinct --replica names. */
        replica = g_strdup(e->opts.replica ? e->opts.replica : g_get_host_name());
        {
                HdSyncConfig sc = {
                    .poll_wait = e->opts.poll_wait,
                    .retry_max = e->opts.retry_max,
                    .lease_ttl = e->opts.poll_wait * 2 + 30,
                    .owner = replica,
                    .host_synced = hd_engine_vms_host_synced,
                };
                e->sync = hd_sync_manager_new(e->store, &sc, on_sync_event, e);
        }
        /* before the "listening" line: a supervisor may signal as soon as it reads it */
        g_unix_signal_add(SIGTERM, on_signal, e->loop);
        g_unix_signal_add(SIGINT, on_signal, e->loop);
        if (!hd_engine_api_start(e, &error)) {
                rc = fail("cannot listen", error);
                goto out;
        }
        hd_engine_event(e, "engine", "engine.start", "engine", "ok", replica);
        if (!hd_sync_manager_start_all(e->sync, &error)) {
                rc = fail("cannot start the sync", error);
                goto out;
        }
        leftover_timer = g_timeout_add_seconds(HD_ENGINE_MDEV_LEFTOVER_SECONDS,
                                               hd_engine_mdev_leftovers_tick, e);
        g_main_loop_run(e->loop);
        hd_engine_log(e, "info", "stopping");
out:
        if (leftover_timer)
                g_source_remove(leftover_timer);
        hd_engine_api_stop(e);
        hd_sync_manager_free(e->sync);
        /* the cancelled agent calls finish (and free themselves) on the loop */
        for (guint i = 0; i < 100 && g_main_context_iteration(NULL, FALSE); i++)
                ;
        hd_store_free(e->store);
        g_clear_pointer(&e->vm_ops, g_hash_table_unref);
        hd_engine_web_close(e);
        g_main_loop_unref(e->loop);
        return rc;
}
