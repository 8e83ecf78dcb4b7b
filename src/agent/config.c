/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Options: the command line, over a GKeyFile configuration (data/hostdevd.conf):
 *
 *   [agent]
 *   listen=127.0.0.1:8086
 *   token-file=/var/lib/hostdev/agent.token
 *   read-only-token-file=/var/lib/hostdev/agent-ro.token
 *   libvirt-uri=qemu:///system
 *   tls-cert=/etc/hostdev/agent.crt
 *   tls-key=/etc/hostdev/agent.key
 *   stop-timeout=120
 *   read-only=false
 *   images-dir=/var/lib/libvirt/images
 *   max-connections=512
 *   max-connections-per-peer=64
 *   idle-timeout=30
 *
 * A value given on the command line wins over the file.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <gio/gio.h>

#include "agent.h"
#include "fileio.h"

#define DEFAULT_CONFIG "/etc/hostdev/hostdevd.conf"
/* A configuration file is a few hundred bytes. */
#define CONFIG_MAX (64 * 1024)

static gboolean load_file(HdAgentOptions *opts, const char *path, gboolean must_exist,
                          GError **error)
{
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) local = NULL;
        struct {
                const char *key;
                char **target;
        } strings[] = {
            {"listen", &opts->listen},
            {"token-file", &opts->token_file},
            {"read-only-token-file", &opts->ro_token_file},
            {"libvirt-uri", &opts->libvirt_uri},
            {"tls-cert", &opts->tls_cert},
            {"tls-key", &opts->tls_key},
            {"backend", &opts->backend},
            {"images-dir", &opts->images_dir},
        };

        /* Like every file the agent reads: a FIFO given as --config must not hang the start. */
        g_autofree char *data = hd_read_path(path, CONFIG_MAX, &local);

        if (!data) {
                if (!must_exist && g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
                        return TRUE;
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "cannot read the configuration %s: %s", path, local->message);
                return FALSE;
        }
        if (!g_key_file_load_from_data(kf, data, -1, G_KEY_FILE_NONE, &local)) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "cannot read the configuration %s: %s", path, local->message);
                return FALSE;
        }
        for (gsize i = 0; i < G_N_ELEMENTS(strings); i++) {
                g_autofree char *v = g_key_file_get_string(kf, "agent", strings[i].key, NULL);
                if (v && !*strings[i].target)
                        *strings[i].target = g_steal_pointer(&v);
        }
        if (g_key_file_get_boolean(kf, "agent", "read-only", NULL))
                opts->read_only = TRUE;
        {
                struct {
                        const char *key;
                        guint *target;
                        guint max;
                } uints[] = {
                    {"max-connections", &opts->max_connections, 1000000},
                    {"max-connections-per-peer", &opts->max_per_peer, 1000000},
                    {"idle-timeout", &opts->idle_timeout, 86400},
                };
                for (gsize i = 0; i < G_N_ELEMENTS(uints); i++) {
                        g_autofree char *v =
                            g_key_file_get_string(kf, "agent", uints[i].key, NULL);
                        guint64 n;
                        if (!v || *uints[i].target)
                                continue;
                        if (!g_ascii_string_to_unsigned(g_strstrip(v), 10, 1, uints[i].max, &n,
                                                        NULL)) {
                                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                            "%s: %s must be a number from 1 to %u", path,
                                            uints[i].key, uints[i].max);
                                return FALSE;
                        }
                        *uints[i].target = (guint)n;
                }
        }
        if (g_key_file_has_key(kf, "agent", "stop-timeout", NULL) && opts->stop_timeout == 0) {
                gint v = g_key_file_get_integer(kf, "agent", "stop-timeout", &local);
                if (local || v <= 0) {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "%s: stop-timeout must be a positive number of seconds", path);
                        return FALSE;
                }
                opts->stop_timeout = v;
        }
        return TRUE;
}

static gboolean print_version(const char *name, const char *value, gpointer data, GError **error)
{
        printf("hostdevd %s\n", HOSTDEV_VERSION);
        exit(0);
}

gboolean hd_agent_options_parse(HdAgentOptions *opts, int *argc, char ***argv, GError **error)
{
        gint stop_timeout = 0;
        gint max_connections = 0, max_per_peer = 0, idle_timeout = 0;
        const GOptionEntry entries[] = {
            {"root", 0, 0, G_OPTION_ARG_FILENAME, &opts->root,
             "Serve the machine under DIR instead of / (a fixture or a snapshot)", "DIR"},
            {"backend", 0, 0, G_OPTION_ARG_STRING, &opts->backend,
             "Kernel backend: real, sim or auto (default: real for /, sim otherwise)", "KIND"},
            {"listen", 'l', 0, G_OPTION_ARG_STRING, &opts->listen,
             "Address and port (default 127.0.0.1:8086; port 0 picks a free one and "
             "prints it)",
             "ADDR:PORT"},
            {"token-file", 0, 0, G_OPTION_ARG_FILENAME, &opts->token_file,
             "The bearer token (created, mode 0600, when missing; default "
             "ROOT/var/lib/hostdev/agent.token)",
             "PATH"},
            {"read-only-token-file", 0, 0, G_OPTION_ARG_FILENAME, &opts->ro_token_file,
             "A token for read-only callers (default ROOT/var/lib/hostdev/agent-ro.token)", "PATH"},
            {"libvirt-uri", 0, 0, G_OPTION_ARG_STRING, &opts->libvirt_uri,
             "libvirt connection (default qemu:///system)", "URI"},
            {"tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &opts->tls_cert,
             "Serve HTTPS with this PEM certificate", "PATH"},
            {"tls-key", 0, 0, G_OPTION_ARG_FILENAME, &opts->tls_key,
             "The certificate's private key (PEM)", "PATH"},
            {"stop-timeout", 0, 0, G_OPTION_ARG_INT, &stop_timeout,
             "Seconds to wait for a VM to shut down before giving up (default 120)", "SECONDS"},
            {"images-dir", 0, 0, G_OPTION_ARG_FILENAME, &opts->images_dir,
             "The directory a VM's disk_image must be in (default /var/lib/libvirt/images)", "DIR"},
            {"max-connections", 0, 0, G_OPTION_ARG_INT, &max_connections,
             "Open HTTP connections at most (default 512; keep it below LimitNOFILE)", "N"},
            {"max-connections-per-peer", 0, 0, G_OPTION_ARG_INT, &max_per_peer,
             "Open HTTP connections from one client address at most (default 64)", "N"},
            {"idle-timeout", 0, 0, G_OPTION_ARG_INT, &idle_timeout,
             "Seconds before an idle connection or an unfinished request is closed (default "
             "30; long polls are not idle)",
             "SECONDS"},
            {"config", 'c', 0, G_OPTION_ARG_FILENAME, &opts->config_file,
             "Configuration file (default " DEFAULT_CONFIG " when it exists)", "PATH"},
            {"read-only", 0, 0, G_OPTION_ARG_NONE, &opts->read_only,
             "Only read: answer every mutating call 403 and leave interrupted journals for "
             "`hostdev recover` (serve a live host for inspection)",
             NULL},
            {"verbose", 'v', 0, G_OPTION_ARG_NONE, &opts->verbose, "Log debug lines too", NULL},
            {"version", 'V', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, print_version,
             "Print the version and exit", NULL},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = g_option_context_new(NULL);

        g_option_context_set_summary(octx,
                                     "hostdevd: the hostdev host agent, an authenticated HTTP+JSON "
                                     "API for PCI passthrough (docs/api/openapi.yaml).");
        g_option_context_set_description(octx,
                                         "Example:\n  hostdevd --root tests/fixture --backend sim "
                                         "--listen 127.0.0.1:0");
        g_option_context_add_main_entries(octx, entries, NULL);
        if (!g_option_context_parse(octx, argc, argv, error))
                return FALSE;
        if (*argc > 1) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT, "unexpected argument '%s'",
                            (*argv)[1]);
                return FALSE;
        }
        if (stop_timeout < 0) {
                g_set_error_literal(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "--stop-timeout must be positive");
                return FALSE;
        }
        if (max_connections < 0 || max_per_peer < 0 || idle_timeout < 0) {
                g_set_error_literal(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "--max-connections, --max-connections-per-peer and "
                                    "--idle-timeout must be positive");
                return FALSE;
        }
        opts->stop_timeout = stop_timeout;
        opts->max_connections = max_connections;
        opts->max_per_peer = max_per_peer;
        opts->idle_timeout = idle_timeout;
        if (!load_file(opts, opts->config_file ? opts->config_file : DEFAULT_CONFIG,
                       opts->config_file != NULL, error))
                return FALSE;
        if (!opts->listen)
                opts->listen = g_strdup("127.0.0.1:8086");
        if (opts->stop_timeout == 0)
                opts->stop_timeout = 120;
        if (!opts->images_dir)
                opts->images_dir = g_strdup("/var/lib/libvirt/images");
        if (!g_path_is_absolute(opts->images_dir)) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "images-dir %s must be an absolute path", opts->images_dir);
                return FALSE;
        }
        if (opts->max_connections == 0)
                opts->max_connections = 512;
        if (opts->max_per_peer == 0)
                opts->max_per_peer = 64;
        if (opts->idle_timeout == 0)
                opts->idle_timeout = 30;
        if (!!opts->tls_cert != !!opts->tls_key) {
                g_set_error_literal(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "TLS needs both --tls-cert and --tls-key");
                return FALSE;
        }
        return TRUE;
}

void hd_agent_options_clear(HdAgentOptions *opts)
{
        g_free(opts->root);
        g_free(opts->backend);
        g_free(opts->listen);
        g_free(opts->token_file);
        g_free(opts->ro_token_file);
        g_free(opts->libvirt_uri);
        g_free(opts->tls_cert);
        g_free(opts->tls_key);
        g_free(opts->config_file);
        g_free(opts->images_dir);
}
