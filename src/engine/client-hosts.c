/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdev-engine hosts ...: the fleet's hosts through the engine's API (client.h).
 *   list, show, add, edit, remove, refresh, devices, groups  (/v1/hosts...)
 *   maintenance, reboot, activate, kernel-args                (the host lifecycle and kernel
 *   tab, api13.md: POST /v1/hosts/{id}/maintenance|reboot|activate, GET|PUT .../kernel-args)
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "client.h"
#include "fileio.h"

/* ---- shown ---- */

static const char *passthrough_text(JsonObject *h)
{
        JsonNode *pt = json_object_get_member(h, "passthrough");
        JsonNode *en;

        if (!pt || !JSON_NODE_HOLDS_OBJECT(pt))
                return "unknown";
        en = json_object_get_member(json_node_get_object(pt), "enabled");
        if (!en || !JSON_NODE_HOLDS_VALUE(en) || json_node_get_value_type(en) != G_TYPE_BOOLEAN)
                return "unknown";
        return json_node_get_boolean(en) ? "enabled" : "disabled";
}

static void print_host(JsonObject *h)
{
        JsonNode *pt = json_object_get_member(h, "passthrough");
        JsonNode *ka = json_object_get_member(h, "kernel_args");
        JsonObject *kao = ka && JSON_NODE_HOLDS_OBJECT(ka) ? json_node_get_object(ka) : NULL;
        const char *reason = pt && JSON_NODE_HOLDS_OBJECT(pt)
                                 ? hd_client_str(json_node_get_object(pt), "reason")
                                 : NULL;
        g_autofree char *passthrough =
            g_strdup_printf("%s%s%s%s", passthrough_text(h), reason ? " (" : "",
                            reason ? reason : "", reason ? ")" : "");
        g_autofree char *devices = hd_client_int_text(h, "device_count");
        g_autofree char *groups = hd_client_int_text(h, "group_count");
        g_autofree char *counts = g_strdup_printf("%s devices in %s IOMMU groups", devices, groups);
        const char *status = hd_client_str(h, "status");

        hd_client_kv("name", hd_client_str(h, "name"));
        hd_client_kv("id", hd_client_str(h, "id"));
        hd_client_kv("agent", hd_client_str(h, "agent_url"));
        hd_client_kv("status", status);
        if (hd_client_str(h, "last_error"))
                hd_client_kv("last error", hd_client_str(h, "last_error"));
        if (g_strcmp0(status, "non_responsive") == 0 && hd_client_str(h, "retry_at"))
                hd_client_kv("next attempt", hd_client_str(h, "retry_at"));
        hd_client_kv("passthrough", passthrough);
        hd_client_kv("cpu vendor", hd_client_str(h, "cpu_vendor"));
        hd_client_kv("kernel", hd_client_str(h, "kernel_release"));
        if (hd_client_str(h, "boot_id"))
                hd_client_kv("boot id", hd_client_str(h, "boot_id"));
        for (const char *const *k = (const char *const[]){"running", "configured", "desired", NULL};
             *k; k++) {
                g_autofree char *w = hd_client_words(kao, *k);
                g_autofree char *label = g_strdup_printf("kernel %s", *k);
                if (w || strcmp(*k, "desired") != 0)
                        hd_client_kv(label, w ? w : "unknown");
        }
        if (json_object_has_member(h, "reboot_required") &&
            !json_object_get_null_member(h, "reboot_required"))
                hd_client_kv("reboot required",
                             json_object_get_boolean_member(h, "reboot_required") ? "yes" : "no");
        hd_client_kv("inventory", counts);
        hd_client_kv("last sync", hd_client_str(h, "last_sync"));
}

static int print_host_or_json(HdClient *c, JsonNode *n)
{
        if (c->json)
                hd_client_print_json(n);
        else
                print_host(json_node_get_object(n));
        return HD_CLIENT_EXIT_OK;
}

/* ---- list, show ---- */

static int hosts_list(HdClient *c, int argc, char **argv)
{
        g_autofree char *status = NULL, *passthrough = NULL, *prefix = NULL;
        gint limit = 0, offset = 0;
        const GOptionEntry entries[] = {
            {"status", 0, 0, G_OPTION_ARG_STRING, &status,
             "Only hosts in STATUS: connecting, up, maintenance, rebooting, non_responsive",
             "STATUS"},
            {"passthrough", 0, 0, G_OPTION_ARG_STRING, &passthrough,
             "Only hosts whose device passthrough is enabled or disabled", "enabled|disabled"},
            {"name-prefix", 0, 0, G_OPTION_ARG_STRING, &prefix,
             "Only hosts whose name starts with PREFIX", "PREFIX"},
            {"limit", 0, 0, G_OPTION_ARG_INT, &limit, "One page of N hosts (default: all)", "N"},
            {"offset", 0, 0, G_OPTION_ARG_INT, &offset, "The page starts after N hosts", "N"},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "", "List the fleet's hosts with their status and passthrough.",
            "Example:\n  hostdev-engine hosts list --status up\n\n"
            "--json prints the API's HostList {hosts, total, limit, offset} (every page joined "
            "unless --limit).",
            entries);
        g_autoptr(JsonNode) list = NULL;
        g_autoptr(GString) pq = g_string_new("/v1/hosts?");
        JsonArray *hosts;
        HdClientTable *t;
        int rc = 0;

        if (!hd_client_parse(c, octx, &argc, &argv, 0, 0))
                return HD_CLIENT_EXIT_USAGE;
        if (limit < 0 || offset < 0)
                return hd_client_usage(c, "--limit and --offset are not negative");
        hd_client_add_query(pq, (const char *const[]){"status", status, "passthrough", passthrough,
                                                      "name_prefix", prefix, NULL, NULL});
        if (!(list = hd_client_get_list(c, pq, limit, offset, "hosts", &rc)))
                return rc;
        if (c->json) {
                hd_client_print_json(list);
                return HD_CLIENT_EXIT_OK;
        }
        hosts = json_object_get_array_member(json_node_get_object(list), "hosts");
        t = hd_client_table_new(7, (const char *const[]){"NAME", "STATUS", "PASSTHROUGH", "DEVICES",
                                                         "GROUPS", "KERNEL", "LAST-SYNC"});
        for (guint i = 0; i < json_array_get_length(hosts); i++) {
                JsonObject *h = json_array_get_object_element(hosts, i);
                g_autofree char *devices = hd_client_int_text(h, "device_count");
                g_autofree char *groups = hd_client_int_text(h, "group_count");
                hd_client_table_add(t, (const char *const[]){hd_client_str(h, "name"),
                                                             hd_client_str(h, "status"),
                                                             passthrough_text(h), devices, groups,
                                                             hd_client_str(h, "kernel_release"),
                                                             hd_client_str(h, "last_sync")});
        }
        hd_client_table_print_free(t);
        if (json_array_get_length(hosts) == 0)
                printf("no hosts%s; add one with hostdev-engine hosts add NAME --agent-url URL "
                       "--agent-token-file FILE\n",
                       status || passthrough || prefix ? " match" : "");
        return HD_CLIENT_EXIT_OK;
}

static int hosts_show(HdClient *c, int argc, char **argv)
{
        g_autoptr(GOptionContext) octx =
            hd_client_options(c, "HOST", "Everything the engine knows about one host.",
                              "Example:\n  hostdev-engine hosts show node1\n\n"
                              "--json prints the API's Host.",
                              NULL);
        g_autoptr(JsonNode) h = NULL;
        g_autofree char *id = NULL;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "hosts", octx, &argc, &argv, 0, 0, &rc)))
                return rc;
        if ((rc = hd_client_request(c, "GET", "hosts", id, NULL, NULL, &h)))
                return rc;
        return print_host_or_json(c, h);
}

/* ---- add, edit, remove, refresh ---- */

/* The first line of @path ("-": standard input), for a secret. */
static char *read_secret(const char *path, const char *what, GError **error)
{
        g_autoptr(GError) local = NULL;
        g_autofree char *data = NULL;
        char *nl;
        char *v;

        if (strcmp(path, "-") == 0) {
                char buf[4096];
                if (!fgets(buf, sizeof(buf), stdin)) {
                        g_set_error(error, HD_CLIENT_ERROR, HD_CLIENT_EXIT_USAGE,
                                    "%s: nothing on standard input", what);
                        return NULL;
                }
                data = g_strdup(buf);
                explicit_bzero(buf, sizeof(buf));
        } else {
                data = hd_read_path(path, 64 * 1024, &local);
                if (!data) {
                        g_set_error(error, HD_CLIENT_ERROR, HD_CLIENT_EXIT_USAGE,
                                    "cannot read %s %s: %s", what, path, local->message);
                        return NULL;
                }
                hd_client_warn_open_secret(path);
        }
        nl = strchr(data, '\n');
        if (nl)
                *nl = '\0';
        v = g_strstrip(g_strdup(data));
        explicit_bzero(data, strlen(data));
        if (!*v) {
                g_free(v);
                g_set_error(error, HD_CLIENT_ERROR, HD_CLIENT_EXIT_USAGE,
                            "%s %s is empty on its first line", what, path);
                return NULL;
        }
        return v;
}

static void add_member(JsonBuilder *b, const char *name, const char *value)
{
        if (!value)
                return;
        json_builder_set_member_name(b, name);
        json_builder_add_string_value(b, value);
}

typedef struct {
        char *name, *agent_url, *agent_token_file, *tls_ca_file, *tls_pinned_cert;
        gboolean wait;
        gint timeout;
} HostArgs;

static void host_args_clear(HostArgs *a)
{
        g_free(a->name);
        g_free(a->agent_url);
        g_free(a->agent_token_file);
        g_free(a->tls_ca_file);
        g_free(a->tls_pinned_cert);
}

/* The body of POST /v1/hosts (@name) or PATCH /v1/hosts/{id}; NULL with @error. */
static JsonNode *host_body(const HostArgs *a, const char *name, GError **error)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autofree char *token = NULL;
        g_autofree char *pem = NULL;
        JsonNode *n;

        if (a->agent_token_file) {
                token = read_secret(a->agent_token_file, "the agent token file", error);
                if (!token)
                        return NULL;
        }
        if (a->tls_pinned_cert && *a->tls_pinned_cert) {
                g_autoptr(GError) local = NULL;
                pem = hd_read_path(a->tls_pinned_cert, 64 * 1024, &local);
                if (!pem) {
                        g_set_error(error, HD_CLIENT_ERROR, HD_CLIENT_EXIT_USAGE,
                                    "cannot read the pinned certificate %s: %s", a->tls_pinned_cert,
                                    local->message);
                        return NULL;
                }
        }
        json_builder_begin_object(b);
        add_member(b, "name", name);
        add_member(b, "agent_url", a->agent_url);
        add_member(b, "agent_token", token);
        add_member(b, "tls_ca_file", a->tls_ca_file);
        add_member(b, "tls_pinned_cert", a->tls_pinned_cert ? (pem ? pem : "") : NULL);
        json_builder_end_object(b);
        n = json_builder_get_root(b);
        if (token)
                explicit_bzero(token, strlen(token));
        return n;
}

/* With --wait: the host once it left connecting (up, or non_responsive: an error). */
static int finish_host(HdClient *c, const char *id, JsonNode *answer, gboolean wait, guint timeout)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) h = NULL;
        g_autofree char *path = hd_client_path("hosts", id, NULL);
        JsonObject *o;

        if (!wait)
                return print_host_or_json(c, answer);
        h = hd_client_wait(c, path, "status",
                           (const char *const[]){"up", "non_responsive", "maintenance", NULL},
                           timeout, &error);
        if (!h)
                return hd_client_fail(c, error);
        o = json_node_get_object(h);
        if (g_strcmp0(hd_client_str(o, "status"), "non_responsive") == 0) {
                g_autoptr(GError) e2 = g_error_new(
                    HD_CLIENT_ERROR, HD_CLIENT_EXIT_FAILED,
                    "host %s does not answer: %s; check the agent URL and token "
                    "(hostdev-engine hosts edit %s --agent-url URL --agent-token-file FILE)",
                    hd_client_str(o, "name"),
                    hd_client_str(o, "last_error") ? hd_client_str(o, "last_error") : "no answer",
                    hd_client_str(o, "name"));
                g_free(c->error_code);
                c->error_code = g_strdup("non-responsive");
                if (c->json)
                        hd_client_print_json(h);
                fprintf(stderr, "hostdev-engine: %s\n", e2->message);
                return HD_CLIENT_EXIT_FAILED;
        }
        return print_host_or_json(c, h);
}

#define HOST_CONNECTION_OPTIONS(a)                                                                 \
        {"agent-url",                                                                              \
         0,                                                                                        \
         0,                                                                                        \
         G_OPTION_ARG_STRING,                                                                      \
         &(a).agent_url,                                                                           \
         "The host's hostdevd, http(s)://HOST:PORT",                                               \
         "URL"},                                                                                   \
            {"agent-token-file",                                                                   \
             0,                                                                                    \
             0,                                                                                    \
             G_OPTION_ARG_FILENAME,                                                                \
             &(a).agent_token_file,                                                                \
             "The agent's token: the first line of FILE ('-': standard input); hostdevd "          \
             "writes it to /var/lib/hostdev/agent.token",                                          \
             "FILE"},                                                                              \
            {"tls-ca-file",                                                                        \
             0,                                                                                    \
             0,                                                                                    \
             G_OPTION_ARG_STRING,                                                                  \
             &(a).tls_ca_file,                                                                     \
             "An https agent: the CA file, a path on the engine's machine",                        \
             "PATH"},                                                                              \
            {"tls-pinned-cert",                                                                    \
             0,                                                                                    \
             0,                                                                                    \
             G_OPTION_ARG_FILENAME,                                                                \
             &(a).tls_pinned_cert,                                                                 \
             "An https agent: accept only the certificate in FILE (PEM, read here)",               \
             "FILE"},                                                                              \
            {"wait",    'w',                                                                       \
             0,         G_OPTION_ARG_NONE,                                                         \
             &(a).wait, "Wait until the engine reached the agent (up), or say why it did not",     \
             NULL},                                                                                \
        {                                                                                          \
                "timeout", 0, 0, G_OPTION_ARG_INT, &(a).timeout,                                   \
                    "Seconds --wait waits (default 60)", "S"                                       \
        }

static int hosts_add(HdClient *c, int argc, char **argv)
{
        HostArgs a = {0};
        const GOptionEntry entries[] = {HOST_CONNECTION_OPTIONS(a), {NULL}};
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "NAME --agent-url URL --agent-token-file FILE",
            "Add a host: the engine connects to its hostdevd and syncs its devices, IOMMU groups "
            "and kernel arguments.",
            "Example:\n  hostdev-engine hosts add node1 --agent-url http://10.0.0.11:8086 \\\n"
            "      --agent-token-file node1.token --wait\n\n"
            "--json prints the API's Host.",
            entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) body = NULL;
        g_autoptr(JsonNode) h = NULL;
        int rc;

        if (!hd_client_parse(c, octx, &argc, &argv, 1, 1)) {
                host_args_clear(&a);
                return HD_CLIENT_EXIT_USAGE;
        }
        if (!a.agent_url || !a.agent_token_file) {
                host_args_clear(&a);
                return hd_client_usage(c, "hosts add needs --agent-url and --agent-token-file");
        }
        body = host_body(&a, argv[1], &error);
        if (!body || !hd_client_call(c, "POST", "/v1/hosts", body, &h, &error)) {
                host_args_clear(&a);
                return hd_client_fail(c, error);
        }
        if (!c->json && !a.wait)
                printf("host %s added; the engine connects to its agent (hostdev-engine hosts "
                       "show %s)\n",
                       argv[1], argv[1]);
        rc = finish_host(c, hd_client_str(json_node_get_object(h), "id"), h, a.wait,
                         a.timeout > 0 ? (guint)a.timeout : 60);
        host_args_clear(&a);
        return rc;
}

static int hosts_edit(HdClient *c, int argc, char **argv)
{
        HostArgs a = {0};
        const GOptionEntry entries[] = {
            {"name", 0, 0, G_OPTION_ARG_STRING, &a.name, "Rename the host", "NAME"},
            HOST_CONNECTION_OPTIONS(a),
            {NULL},
        };
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "HOST [--name NAME] [--agent-url URL] [--agent-token-file FILE] ...",
            "Change a host's name or its connection (a new connection is synced from the start); "
            "--tls-ca-file \"\" and --tls-pinned-cert \"\" clear them.",
            "Example:\n  hostdev-engine hosts edit node1 --agent-token-file new.token --wait\n\n"
            "--json prints the API's Host.",
            entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) body = NULL;
        g_autoptr(JsonNode) h = NULL;
        g_autofree char *id = NULL;
        g_autofree char *path = NULL;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "hosts", octx, &argc, &argv, 0, 0, &rc))) {
                host_args_clear(&a);
                return rc;
        }
        if (!a.name && !a.agent_url && !a.agent_token_file && !a.tls_ca_file &&
            !a.tls_pinned_cert) {
                host_args_clear(&a);
                return hd_client_usage(c, "nothing to change: give --name, --agent-url, "
                                          "--agent-token-file, --tls-ca-file or --tls-pinned-cert");
        }
        path = hd_client_path("hosts", id, NULL);
        body = host_body(&a, a.name, &error);
        if (!body || !hd_client_call(c, "PATCH", path, body, &h, &error)) {
                host_args_clear(&a);
                return hd_client_fail(c, error);
        }
        rc = finish_host(c, id, h, a.wait, a.timeout > 0 ? (guint)a.timeout : 60);
        host_args_clear(&a);
        return rc;
}

static int hosts_remove(HdClient *c, int argc, char **argv)
{
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "HOST",
            "Remove a host with its inventory; refused while VMs have host devices on it (the "
            "message names them).",
            "Example:\n  hostdev-engine hosts remove node1\n\n"
            "--json prints {\"id\", \"name\", \"removed\": true}.",
            NULL);
        g_autofree char *id = NULL;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "hosts", octx, &argc, &argv, 0, 0, &rc)))
                return rc;
        if ((rc = hd_client_request(c, "DELETE", "hosts", id, NULL, NULL, NULL)))
                return rc;
        if (c->json)
                hd_client_print_done(id, argv[1], "removed");
        else
                printf("host %s removed\n", argv[1]);
        return HD_CLIENT_EXIT_OK;
}

static int hosts_refresh(HdClient *c, int argc, char **argv)
{
        gboolean wait = FALSE;
        gint timeout = 0;
        const GOptionEntry entries[] = {
            {"wait", 'w', 0, G_OPTION_ARG_NONE, &wait,
             "Wait until the host is synced again (up), or say why not", NULL},
            {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "Seconds --wait waits (default 60)", "S"},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "HOST", "Read the host's readiness, devices and groups from its agent again.",
            "Example:\n  hostdev-engine hosts refresh node1 --wait\n\n"
            "--json prints the API's answer ({\"refreshing\": true}), with --wait the Host.",
            entries);
        g_autoptr(JsonNode) answer = NULL;
        g_autofree char *id = NULL;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "hosts", octx, &argc, &argv, 0, 0, &rc)))
                return rc;
        if ((rc = hd_client_request(c, "POST", "hosts", id, "refresh", NULL, &answer)))
                return rc;
        if (wait)
                return finish_host(c, id, NULL, TRUE, timeout > 0 ? (guint)timeout : 60);
        if (c->json)
                hd_client_print_json(answer);
        else
                printf("host %s: refreshing from its agent\n", argv[1]);
        return HD_CLIENT_EXIT_OK;
}

/* ---- inventory ---- */

static int hosts_devices(HdClient *c, int argc, char **argv)
{
        g_autofree char *klass = NULL, *driver = NULL, *text = NULL;
        gint group = -1, limit = 0, offset = 0;
        const GOptionEntry entries[] = {
            {"class", 0, 0, G_OPTION_ARG_STRING, &klass,
             "Only devices of a class: gpu, net, storage, usb, audio, bridge, other", "CLASS"},
            {"driver", 0, 0, G_OPTION_ARG_STRING, &driver,
             "Only devices bound to DRIVER ('none' for driverless)", "DRIVER"},
            {"text", 0, 0, G_OPTION_ARG_STRING, &text,
             "Only devices whose address, ids, vendor, product, class or driver contain TEXT "
             "(any case)",
             "TEXT"},
            {"group", 0, 0, G_OPTION_ARG_INT, &group, "Only devices in IOMMU group N", "N"},
            {"limit", 0, 0, G_OPTION_ARG_INT, &limit, "One page of N devices (default: all)", "N"},
            {"offset", 0, 0, G_OPTION_ARG_INT, &offset, "The page starts after N devices", "N"},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "HOST", "The host's PCI devices as its agent last reported them.",
            "Example:\n  hostdev-engine hosts devices node1 --class gpu\n\n"
            "--json prints the API's DeviceList {host_id, status, last_sync, total, limit, "
            "offset, devices} (the agent's Device objects; every page joined unless --limit).",
            entries);
        g_autoptr(JsonNode) list = NULL;
        g_autofree char *id = NULL;
        g_autofree char *base = NULL;
        g_autoptr(GString) pq = NULL;
        JsonArray *devs;
        HdClientTable *t;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "hosts", octx, &argc, &argv, 0, 0, &rc)))
                return rc;
        if (limit < 0 || offset < 0)
                return hd_client_usage(c, "--limit and --offset are not negative");
        base = hd_client_path("hosts", id, "devices");
        pq = g_string_new(base);
        g_string_append_c(pq, '?');
        hd_client_add_query(
            pq, (const char *const[]){"class", klass, "driver", driver, "text", text, NULL, NULL});
        if (group >= 0)
                g_string_append_printf(pq, "iommu_group=%d&", group);
        if (!(list = hd_client_get_list(c, pq, limit, offset, "devices", &rc)))
                return rc;
        if (c->json) {
                hd_client_print_json(list);
                return HD_CLIENT_EXIT_OK;
        }
        devs = json_object_get_array_member(json_node_get_object(list), "devices");
        t = hd_client_table_new(6, (const char *const[]){"ADDRESS", "VENDOR:DEVICE", "NAME",
                                                         "DRIVER", "GROUP", "ASSIGNABLE"});
        hd_client_table_set_shrink(t, 2); /* NAME */
        for (guint i = 0; i < json_array_get_length(devs); i++) {
                JsonObject *d = json_array_get_object_element(devs, i);
                g_autofree char *ids = hd_client_device_ids(d);
                g_autofree char *name = g_strdup_printf(
                    "%s %s", hd_client_str(d, "vendor") ? hd_client_str(d, "vendor") : "",
                    hd_client_str(d, "product")      ? hd_client_str(d, "product")
                    : hd_client_str(d, "class_name") ? hd_client_str(d, "class_name")
                                                     : "");
                g_autofree char *grp = hd_client_int_text(d, "iommu_group");
                const char *assignable = hd_client_bool_text(d, "assignable", "yes", "no");
                hd_client_table_add(
                    t, (const char *const[]){hd_client_str(d, "address"), ids, g_strstrip(name),
                                             hd_client_str(d, "driver"), grp, assignable});
        }
        hd_client_table_print_free(t);
        {
                JsonObject *o = json_node_get_object(list);
                g_autofree char *total = hd_client_int_text(o, "total");
                printf("%u of %s devices\n", json_array_get_length(devs), total);
        }
        return HD_CLIENT_EXIT_OK;
}

static int hosts_groups(HdClient *c, int argc, char **argv)
{
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "HOST", "The host's IOMMU groups and whether each can go to a VM.",
            "Example:\n  hostdev-engine hosts groups node1\n\n"
            "--json prints the API's GroupList {host_id, status, last_sync, groups}.",
            NULL);
        g_autoptr(JsonNode) list = NULL;
        g_autofree char *id = NULL;
        JsonArray *groups;
        HdClientTable *t;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "hosts", octx, &argc, &argv, 0, 0, &rc)))
                return rc;
        if ((rc = hd_client_request(c, "GET", "hosts", id, "groups", NULL, &list)))
                return rc;
        if (c->json) {
                hd_client_print_json(list);
                return HD_CLIENT_EXIT_OK;
        }
        groups = json_object_get_array_member(json_node_get_object(list), "groups");
        t = hd_client_table_new(3, (const char *const[]){"GROUP", "DEVICES", "VERDICT"});
        for (guint i = 0; i < json_array_get_length(groups); i++) {
                JsonObject *g = json_array_get_object_element(groups, i);
                g_autofree char *num = hd_client_int_text(g, "group");
                g_autofree char *devs = hd_client_words(g, "devices");
                hd_client_table_add(t,
                                    (const char *const[]){num, devs, hd_client_str(g, "verdict")});
        }
        hd_client_table_print_free(t);
        return HD_CLIENT_EXIT_OK;
}

/* ---- lifecycle ---- */

typedef struct {
        const char *action;          /* the path's last segment */
        const char *const *wait_for; /* the statuses --wait waits for */
        const char *done;            /* "host NAME <done>" */
} Lifecycle;

static int lifecycle(HdClient *c, int argc, char **argv, const Lifecycle *l, const char *summary,
                     const char *example)
{
        gboolean wait = FALSE;
        gint timeout = 0;
        const GOptionEntry entries[] = {
            {"wait", 'w', 0, G_OPTION_ARG_NONE, &wait, "Wait until the host got there", NULL},
            {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "Seconds --wait waits (default 300)",
             "S"},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = hd_client_options(c, "HOST", summary, example, entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) h = NULL;
        g_autofree char *id = NULL;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "hosts", octx, &argc, &argv, 0, 0, &rc)))
                return rc;
        if ((rc = hd_client_request(c, "POST", "hosts", id, l->action, NULL, &h)))
                return rc;
        if (wait) {
                g_autofree char *hp = hd_client_path("hosts", id, NULL);
                g_clear_pointer(&h, json_node_unref);
                h = hd_client_wait(c, hp, "status", l->wait_for, timeout > 0 ? (guint)timeout : 300,
                                   &error);
                if (!h)
                        return hd_client_fail(c, error);
                if (g_strcmp0(hd_client_str(json_node_get_object(h), "status"), "non_responsive") ==
                    0) {
                        const char *why = hd_client_str(json_node_get_object(h), "last_error");
                        if (c->json)
                                hd_client_print_json(h);
                        fprintf(stderr,
                                "hostdev-engine: host %s does not answer: %s; see hostdev-engine "
                                "hosts show %s\n",
                                argv[1], why ? why : "no answer", argv[1]);
                        return HD_CLIENT_EXIT_FAILED;
                }
        }
        if (c->json) {
                hd_client_print_json(h);
                return HD_CLIENT_EXIT_OK;
        }
        printf("host %s %s (status %s)\n", argv[1], l->done,
               h && JSON_NODE_HOLDS_OBJECT(h) ? hd_client_str(json_node_get_object(h), "status")
                                              : "?");
        return HD_CLIENT_EXIT_OK;
}

static int hosts_maintenance(HdClient *c, int argc, char **argv)
{
        const Lifecycle l = {"maintenance", (const char *const[]){"maintenance", NULL},
                             "is in maintenance"};
        return lifecycle(
            c, argc, argv, &l,
            "Put a host in maintenance: refused while VMs run on it (the message names them); "
            "kernel arguments are applied and reboots done only in maintenance.",
            "Example:\n  hostdev-engine hosts maintenance node1\n\n--json prints the API's Host.");
}

static int hosts_reboot(HdClient *c, int argc, char **argv)
{
        const Lifecycle l = {"reboot", (const char *const[]){"maintenance", NULL},
                             "was asked to reboot"};
        return lifecycle(c, argc, argv, &l,
                         "Reboot a host in maintenance through its agent; the engine shows "
                         "rebooting until the agent answers with a new boot id, then "
                         "maintenance. --wait waits for that.",
                         "Example:\n  hostdev-engine hosts reboot node1 --wait\n\n"
                         "--json prints the API's Host (after --wait, back in maintenance).");
}

static int hosts_activate(HdClient *c, int argc, char **argv)
{
        const Lifecycle l = {"activate", (const char *const[]){"up", "non_responsive", NULL},
                             "activated"};
        return lifecycle(c, argc, argv, &l,
                         "Take a host out of maintenance: the engine re-reads its readiness and "
                         "inventory and sets it up.",
                         "Example:\n  hostdev-engine hosts activate node1 --wait\n\n"
                         "--json prints the API's Host.");
}

/* ---- kernel tab ---- */

static void add_strv(JsonBuilder *b, const char *name, char **v)
{
        if (!v)
                return;
        json_builder_set_member_name(b, name);
        json_builder_begin_array(b);
        for (char **s = v; *s; s++)
                json_builder_add_string_value(b, *s);
        json_builder_end_array(b);
}

static void print_kernel_args(JsonObject *ka, gboolean asked_apply, gboolean planned)
{
        g_autofree char *running = hd_client_words(ka, "running");
        g_autofree char *configured = hd_client_words(ka, "configured");
        g_autofree char *desired = hd_client_words(ka, "desired");
        JsonNode *n;

        if (hd_client_str(ka, "error"))
                hd_client_kv("error", hd_client_str(ka, "error"));
        if (hd_client_str(ka, "bootloader"))
                hd_client_kv("bootloader", hd_client_str(ka, "bootloader"));
        hd_client_kv("running", running ? running : "unknown");
        hd_client_kv("configured", configured ? configured : "unknown");
        hd_client_kv("desired", desired ? desired : "unknown");
        for (const char *const *k = (const char *const[]){"added", "removed", "notes", NULL}; *k;
             k++) {
                JsonNode *an = json_object_get_member(ka, *k);
                JsonArray *a = an && JSON_NODE_HOLDS_ARRAY(an) ? json_node_get_array(an) : NULL;
                for (guint i = 0; a && i < json_array_get_length(a); i++) {
                        g_autofree char *line =
                            g_strdup_printf("%s %s",
                                            strcmp(*k, "added") == 0     ? "  +"
                                            : strcmp(*k, "removed") == 0 ? "  -"
                                                                         : "note:",
                                            json_array_get_string_element(a, i));
                        g_autofree char *shown = g_utf8_make_valid(line, -1);
                        printf("%s\n", shown);
                }
        }
        n = json_object_get_member(ka, "applied");
        if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_boolean(n))
                printf("applied: the host boots with the desired command line after a reboot "
                       "(hostdev-engine hosts reboot HOST)\n");
        else if (planned && !asked_apply)
                printf("not applied: run again with --apply (the host must be in maintenance)\n");
        n = json_object_get_member(ka, "reboot_required");
        if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_boolean(n))
                printf("reboot required: the running kernel's command line differs from the "
                       "configured one\n");
}

static int hosts_kernel_args(HdClient *c, int argc, char **argv)
{
        g_auto(GStrv) enable = NULL, disable = NULL, custom = NULL, remove = NULL;
        gboolean apply = FALSE;
        const GOptionEntry entries[] = {
            {"enable", 0, 0, G_OPTION_ARG_STRING_ARRAY, &enable,
             "Add the arguments of option OPT (repeatable): iommu, iommu-pt, nested, "
             "unsafe-interrupts, pci-realloc, blacklist-nouveau, release-framebuffer, "
             "vfio-ids=IDS",
             "OPT"},
            {"disable", 0, 0, G_OPTION_ARG_STRING_ARRAY, &disable,
             "Remove the arguments of OPT that hostdev added (repeatable)", "OPT"},
            {"custom", 0, 0, G_OPTION_ARG_STRING_ARRAY, &custom, "Add these arguments (repeatable)",
             "ARGS"},
            {"remove", 0, 0, G_OPTION_ARG_STRING_ARRAY, &remove,
             "Remove an argument: NAME=VALUE, or NAME for every value (repeatable)", "ARG"},
            {"apply", 0, 0, G_OPTION_ARG_NONE, &apply,
             "Write it through the host's bootloader (only in maintenance); without it, the "
             "change is planned and shown, nothing written",
             NULL},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "HOST [--enable OPT ...] [--apply]",
            "The host's kernel command line (the kernel tab): running, configured and desired; "
            "with options, the planned change (a dry run), with --apply written to the "
            "bootloader. The option names are hostdev kernel-args's.",
            "Examples:\n  hostdev-engine hosts kernel-args node1\n"
            "  hostdev-engine hosts kernel-args node1 --enable iommu --enable iommu-pt\n"
            "  hostdev-engine hosts kernel-args node1 --enable iommu --enable iommu-pt --apply\n\n"
            "--json prints the agent's KernelArgs document as the engine relays it.",
            entries);
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ka = NULL;
        g_autofree char *id = NULL;
        g_autofree char *path = NULL;
        gboolean change = enable || disable || custom || remove;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "hosts", octx, &argc, &argv, 0, 0, &rc)))
                return rc;
        change = enable || disable || custom || remove;
        path = hd_client_path("hosts", id, "kernel-args");
        if (!change && !apply) {
                if (!hd_client_call(c, "GET", path, NULL, &ka, &error))
                        return hd_client_fail(c, error);
        } else {
                g_autoptr(JsonBuilder) b = json_builder_new();
                g_autoptr(JsonNode) body = NULL;

                json_builder_begin_object(b);
                add_strv(b, "enable", enable);
                add_strv(b, "disable", disable);
                add_strv(b, "custom", custom);
                add_strv(b, "remove", remove);
                json_builder_set_member_name(b, "dry_run");
                json_builder_add_boolean_value(b, !apply);
                json_builder_end_object(b);
                body = json_builder_get_root(b);
                if (!hd_client_call(c, "PUT", path, body, &ka, &error))
                        return hd_client_fail(c, error);
        }
        if (c->json)
                hd_client_print_json(ka);
        else if (ka && JSON_NODE_HOLDS_OBJECT(ka))
                print_kernel_args(json_node_get_object(ka), apply, change || apply);
        return HD_CLIENT_EXIT_OK;
}

const HdClientCommand hd_client_host_commands[] = {
    {"list", hosts_list, "The fleet's hosts: status, passthrough, devices"},
    {"show", hosts_show, "Everything about one host"},
    {"add", hosts_add, "Add a host (its hostdevd's URL and token)"},
    {"edit", hosts_edit, "Rename a host or change its connection"},
    {"remove", hosts_remove, "Remove a host (refused while VMs use its devices)"},
    {"refresh", hosts_refresh, "Read the host's inventory from its agent again"},
    {"devices", hosts_devices, "The host's PCI devices, filtered"},
    {"groups", hosts_groups, "The host's IOMMU groups"},
    {"usb", hd_client_hosts_usb, "The host's USB devices and their verdicts"},
    {"scsi", hd_client_hosts_scsi, "The host's SCSI LUNs and their verdicts"},
    {"vhost-scsi", hd_client_hosts_vhost_scsi, "The host's vhost-scsi targets and whether ready"},
    {"npiv", hd_client_hosts_npiv, "The host's FC hosts and NPIV vports"},
    {"npiv-create", hd_client_hosts_npiv_create, "Create an NPIV vport with fleet-unique WWNs"},
    {"npiv-delete", hd_client_hosts_npiv_delete, "Delete an NPIV vport"},
    {"sriov", hd_client_hosts_sriov, "An SR-IOV PF's VFs; change the VF count"},
    {"mdev", hd_client_hosts_mdev, "The host's mediated device types and capacity"},
    {"kernel-args", hosts_kernel_args, "Kernel command line: show, plan, --apply"},
    {"maintenance", hosts_maintenance, "Put a host in maintenance (no VM may run)"},
    {"reboot", hosts_reboot, "Reboot a host in maintenance"},
    {"activate", hosts_activate, "Bring a host back from maintenance"},
    {NULL, NULL, NULL},
};
