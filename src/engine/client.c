/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hostdev-engine's API client: dispatch, options, HTTP, errors, output (client.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "engine.h"
#include "fileio.h"
#include "utf8.h"

G_DEFINE_QUARK(hd - client - error - quark, hd_client_error)

#define DEFAULT_CONFIG "/etc/hostdev/hostdev-engine.conf"
#define DEFAULT_URL "http://127.0.0.1:8087"
/* seconds a call may take (events --follow sets its wait + 30) */
#define CALL_TIMEOUT 90

/* ---- dispatch ---- */

/* Options (of the client and of the engine) whose value is the next argument. */
static gboolean takes_value(const char *a)
{
        static const char *const with_value[] = {
            "--url",       "--token-file", "--config",  "-c",         "--ca-file",
            "--db",        "--listen",     "-l",        "--tls-cert", "--tls-key",
            "--poll-wait", "--retry-max",  "--replica", NULL};

        return g_strv_contains(with_value, a);
}

/* The index of the first argument that is not an option (or an option's value), or 0. */
static int next_word(int argc, char **argv, int from)
{
        for (int i = from; i < argc; i++) {
                if (strcmp(argv[i], "--") == 0)
                        return i + 1 < argc ? i + 1 : 0;
                if (argv[i][0] != '-')
                        return i;
                if (takes_value(argv[i]))
                        i++;
        }
        return 0;
}

int hd_client_command_index(int argc, char **argv)
{
        int i = next_word(argc, argv, 1);

        if (i > 0 && (strcmp(argv[i], "hosts") == 0 || strcmp(argv[i], "vms") == 0 ||
                      strcmp(argv[i], "events") == 0))
                return i;
        return 0;
}

typedef struct {
        const char *name;
        const HdClientCommand *commands; /* NULL: the resource is itself the command */
        int (*run)(HdClient *c, int argc, char **argv);
        const char *summary;
} Resource;

static const Resource resources[] = {
    {"hosts", hd_client_host_commands, NULL, "Hosts, their devices, kernel options, maintenance"},
    {"vms", hd_client_vm_commands, NULL, "VMs with host devices: create, add devices, start"},
    {"events", NULL, hd_client_events, "The audit log, or follow it as it grows"},
};

static void print_resource_usage(FILE *out, const Resource *r)
{
        fprintf(out,
                "Usage: hostdev-engine [--url URL] [--token-file FILE] [--json] %s COMMAND "
                "[OPTIONS...]\n\n%s.\n\nCommands:\n",
                r->name, r->summary);
        for (const HdClientCommand *cmd = r->commands; cmd->name; cmd++)
                fprintf(out, "  %-14s %s\n", cmd->name, cmd->summary);
        fprintf(out,
                "\n'hostdev-engine %s COMMAND --help' shows a command's options and an example.\n"
                "Objects are named by name or id. The token comes from HOSTDEV_ENGINE_TOKEN or "
                "--token-file.\n\n"
                "Exit status: 0 ok, 1 failed, 2 bad usage, 3 refused, 4 not found, 5 engine "
                "unreachable, 6 unauthorized.\n",
                r->name);
}

static void client_clear(HdClient *c)
{
        g_free(c->url);
        g_free(c->token_file);
        g_free(c->config);
        g_free(c->ca_file);
        g_free(c->base);
        if (c->token)
                explicit_bzero(c->token, strlen(c->token));
        g_free(c->token);
        g_clear_object(&c->session);
        g_free(c->error_code);
        g_free(c->command);
}

int hd_client_main(int argc, char **argv, int idx)
{
        HdClient c = {0};
        const Resource *r = NULL;
        int (*run)(HdClient *, int, char **) = NULL;
        int sub = 0;
        g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
        int rc;

        for (guint i = 0; i < G_N_ELEMENTS(resources); i++)
                if (strcmp(argv[idx], resources[i].name) == 0)
                        r = &resources[i];
        g_assert(r);
        for (int i = 1; i < argc; i++)
                c.json = c.json || strcmp(argv[i], "--json") == 0;
        if (r->commands) {
                sub = next_word(argc, argv, idx + 1);
                if (!sub) {
                        gboolean help = FALSE;
                        for (int i = idx + 1; i < argc; i++)
                                help = help || strcmp(argv[i], "--help") == 0 ||
                                       strcmp(argv[i], "-h") == 0;
                        print_resource_usage(help ? stdout : stderr, r);
                        if (help)
                                return HD_CLIENT_EXIT_OK;
                        rc = hd_client_usage(&c, "hostdev-engine %s needs a command", r->name);
                        client_clear(&c);
                        return rc;
                }
                for (const HdClientCommand *cmd = r->commands; cmd->name; cmd++)
                        if (strcmp(argv[sub], cmd->name) == 0) {
                                run = cmd->run;
                                c.command = g_strdup_printf("%s %s", r->name, cmd->name);
                        }
                if (!run) {
                        print_resource_usage(stderr, r);
                        rc = hd_client_usage(&c, "'%s' is not a command of hostdev-engine %s",
                                             g_utf8_validate(argv[sub], -1, NULL) ? argv[sub] : "?",
                                             r->name);
                        client_clear(&c);
                        return rc;
                }
        } else {
                run = r->run;
                c.command = g_strdup(r->name);
        }
        /* "hostdev-engine hosts list", then what came before the resource (the common
         * options), then the rest */
        g_ptr_array_add(args, g_strdup_printf("hostdev-engine %s", c.command));
        for (int i = 1; i < argc; i++)
                if (i != idx && i != sub)
                        g_ptr_array_add(args, g_strdup(argv[i]));
        g_ptr_array_add(args, NULL);
        {
                int sub_argc = (int)args->len - 1;
                /* the option parser drops parsed entries without freeing them */
                g_autofree char **sub_argv = g_memdup2(args->pdata, sizeof(char *) * args->len);
                rc = run(&c, sub_argc, sub_argv);
        }
        client_clear(&c);
        return rc;
}

/* ---- options ---- */

GOptionContext *hd_client_options(HdClient *c, const char *params, const char *summary,
                                  const char *description, const GOptionEntry *entries)
{
        const GOptionEntry common[] = {
            {"url", 0, 0, G_OPTION_ARG_STRING, &c->url,
             "The engine's URL (default: from the configuration file's listen, else " DEFAULT_URL
             ")",
             "URL"},
            {"token-file", 0, 0, G_OPTION_ARG_FILENAME, &c->token_file,
             "Read the API token from FILE's first line (instead of HOSTDEV_ENGINE_TOKEN)", "FILE"},
            {"config", 'c', 0, G_OPTION_ARG_FILENAME, &c->config,
             "The engine's configuration file, for its address (default " DEFAULT_CONFIG ")",
             "FILE"},
            {"ca-file", 0, 0, G_OPTION_ARG_FILENAME, &c->ca_file,
             "PEM CA certificate(s) that sign an https engine's certificate", "FILE"},
            {"json", 0, 0, G_OPTION_ARG_NONE, &c->json,
             "Print the API's JSON document (docs/api/engine-openapi.yaml)", NULL},
            {NULL},
        };
        GOptionContext *octx = g_option_context_new(params);
        GOptionGroup *group = g_option_group_new(
            "common", "Options of every command:", "Show the options of every command", NULL, NULL);
        g_autofree char *desc = g_strdup_printf(
            "%s\n\nThe token: HOSTDEV_ENGINE_TOKEN, or --token-file FILE (never an argument).\n"
            "Exit status: 0 ok, 1 failed, 2 bad usage, 3 refused, 4 not found, 5 engine "
            "unreachable, 6 unauthorized.",
            description);

        g_option_context_set_summary(octx, summary);
        g_option_context_set_description(octx, desc);
        if (entries)
                g_option_context_add_main_entries(octx, entries, NULL);
        g_option_group_add_entries(group, common);
        g_option_context_add_group(octx, group);
        return octx;
}

gboolean hd_client_parse(HdClient *c, GOptionContext *octx, int *argc, char ***argv, int min_args,
                         int max_args)
{
        g_autoptr(GError) error = NULL;

        if (!g_option_context_parse(octx, argc, argv, &error)) {
                hd_client_usage(c, "%s", error->message);
                return FALSE;
        }
        if (*argc - 1 > max_args) {
                hd_client_usage(
                    c, "unexpected argument '%s'",
                    g_utf8_validate((*argv)[max_args + 1], -1, NULL) ? (*argv)[max_args + 1] : "?");
                return FALSE;
        }
        if (*argc - 1 < min_args) {
                hd_client_usage(c, "missing argument (see hostdev-engine %s --help)", c->command);
                return FALSE;
        }
        return TRUE;
}

/* ---- errors ---- */

int hd_client_fail(HdClient *c, const GError *error)
{
        g_autofree char *shown = hd_utf8_printable(error->message);
        int code = error->domain == HD_CLIENT_ERROR ? error->code : HD_CLIENT_EXIT_FAILED;
        static const char *const codes[] = {
            [HD_CLIENT_EXIT_FAILED] = "failed",
            [HD_CLIENT_EXIT_USAGE] = "invalid-argument",
            [HD_CLIENT_EXIT_REFUSED] = "refused",
            [HD_CLIENT_EXIT_NOT_FOUND] = "not-found",
            [HD_CLIENT_EXIT_UNREACHABLE] = "unreachable",
            [HD_CLIENT_EXIT_UNAUTHORIZED] = "unauthorized",
        };

        /* an error the client found itself (no engine answer): the code of its kind */
        if (!c->error_code && code > 0 && code < (int)G_N_ELEMENTS(codes))
                c->error_code = g_strdup(codes[code]);

        fprintf(stderr, "hostdev-engine: %s\n", shown);
        if (c->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                g_autoptr(JsonNode) root = NULL;

                json_builder_begin_object(b);
                json_builder_set_member_name(b, "error");
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "code");
                json_builder_add_string_value(b, c->error_code ? c->error_code : "failed");
                json_builder_set_member_name(b, "message");
                json_builder_add_string_value(b, error->message);
                json_builder_end_object(b);
                json_builder_end_object(b);
                root = json_builder_get_root(b);
                hd_client_print_json(root);
        }
        return code;
}

int hd_client_usage(HdClient *c, const char *format, ...)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *msg = NULL;
        va_list ap;

        va_start(ap, format);
        msg = hd_utf8_vprintf(format, ap);
        va_end(ap);
        g_free(c->error_code);
        c->error_code = g_strdup("invalid-argument");
        error = g_error_new(HD_CLIENT_ERROR, HD_CLIENT_EXIT_USAGE, "%s (see --help)", msg);
        return hd_client_fail(c, error);
}

static gboolean set_error(HdClient *c, GError **error, HdClientExit code, const char *api_code,
                          const char *format, ...) G_GNUC_PRINTF(5, 6);

static gboolean set_error(HdClient *c, GError **error, HdClientExit code, const char *api_code,
                          const char *format, ...)
{
        va_list ap;
        g_autofree char *msg = NULL;

        va_start(ap, format);
        msg = hd_utf8_vprintf(format, ap);
        va_end(ap);
        g_free(c->error_code);
        c->error_code = g_strdup(api_code);
        g_set_error_literal(error, HD_CLIENT_ERROR, code, msg);
        return FALSE;
}

/* ---- connection ---- */

/* The URL of the engine a configuration file describes, or NULL when it says nothing. */
static char *url_from_config(const char *path, gboolean must_exist, GError **error)
{
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) local = NULL;
        g_autofree char *data = hd_read_path(path, 64 * 1024, &local);
        g_autofree char *listen = NULL;
        g_autofree char *cert = NULL;
        g_autofree char *host = NULL;
        const char *port;

        if (!data) {
                if (!must_exist)
                        return NULL; /* absent or not readable: the default address */
                g_set_error(error, HD_CLIENT_ERROR, HD_CLIENT_EXIT_USAGE,
                            "cannot read the configuration %s: %s", path, local->message);
                return NULL;
        }
        if (!g_key_file_load_from_data(kf, data, (gsize)-1, G_KEY_FILE_NONE, &local)) {
                g_set_error(error, HD_CLIENT_ERROR, HD_CLIENT_EXIT_USAGE, "%s: %s", path,
                            local->message);
                return NULL;
        }
        listen = g_key_file_get_string(kf, "engine", "listen", NULL);
        cert = g_key_file_get_string(kf, "engine", "tls-cert", NULL);
        if (!listen)
                return NULL;
        g_strstrip(listen);
        port = strrchr(listen, ':');
        if (!port || port == listen) {
                g_set_error(error, HD_CLIENT_ERROR, HD_CLIENT_EXIT_USAGE,
                            "%s: listen=%s is not ADDRESS:PORT; give --url", path, listen);
                return NULL;
        }
        host = g_strndup(listen, (gsize)(port - listen));
        /* a wildcard address is reached on loopback */
        if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "*") == 0)
                host = (g_free(host), g_strdup("127.0.0.1"));
        else if (strcmp(host, "[::]") == 0)
                host = (g_free(host), g_strdup("[::1]"));
        return g_strdup_printf("%s://%s%s", cert && *cert ? "https" : "http", host, port);
}

void hd_client_warn_open_secret(const char *path)
{
        struct stat st;

        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077))
                fprintf(stderr,
                        "hostdev-engine: warning: %s holds a secret and others may read it "
                        "(mode %04o); chmod 600 %s\n",
                        path, (unsigned)(st.st_mode & 07777), path);
}

static gboolean load_token(HdClient *c, GError **error)
{
        const char *env = g_getenv("HOSTDEV_ENGINE_TOKEN");
        g_autoptr(GError) local = NULL;
        g_autofree char *data = NULL;
        char *nl;

        /* the option given for this call wins over the environment */
        if (!c->token_file) {
                if (env && *env)
                        c->token = g_strstrip(g_strdup(env));
                return TRUE;
        }
        data = hd_read_path(c->token_file, 4096, &local);
        if (!data)
                return set_error(c, error, HD_CLIENT_EXIT_USAGE, "invalid-argument",
                                 "cannot read the token file %s: %s", c->token_file,
                                 local->message);
        hd_client_warn_open_secret(c->token_file);
        nl = strchr(data, '\n');
        if (nl)
                *nl = '\0';
        c->token = g_strstrip(g_strdup(data));
        explicit_bzero(data, strlen(data));
        if (!*c->token || strchr(c->token, '\r'))
                return set_error(c, error, HD_CLIENT_EXIT_USAGE, "invalid-argument",
                                 "the token file %s holds no token on its first line "
                                 "(hostdev-engine token create NAME --role admin prints one)",
                                 c->token_file);
        return TRUE;
}

static gboolean connect_session(HdClient *c, GError **error)
{
        g_autoptr(GError) local = NULL;

        if (c->session)
                return TRUE;
        if (c->url) {
                g_autoptr(GUri) uri = g_uri_parse(c->url, G_URI_FLAGS_NONE, NULL);
                const char *scheme = uri ? g_uri_get_scheme(uri) : NULL;
                if (!uri || !scheme ||
                    (g_ascii_strcasecmp(scheme, "http") != 0 &&
                     g_ascii_strcasecmp(scheme, "https") != 0) ||
                    !g_uri_get_host(uri) || g_uri_get_query(uri))
                        return set_error(c, error, HD_CLIENT_EXIT_USAGE, "invalid-argument",
                                         "--url %s: give http://HOST:PORT or https://HOST:PORT",
                                         c->url);
                c->base = g_strdup(c->url);
        } else {
                c->base = url_from_config(c->config ? c->config : DEFAULT_CONFIG, c->config != NULL,
                                          &local);
                if (local) {
                        g_free(c->error_code);
                        c->error_code = g_strdup("invalid-argument");
                        g_propagate_error(error, g_steal_pointer(&local));
                        return FALSE;
                }
                if (!c->base)
                        c->base = g_strdup(DEFAULT_URL);
        }
        while (g_str_has_suffix(c->base, "/"))
                c->base[strlen(c->base) - 1] = '\0';
        if (!load_token(c, error))
                return FALSE;
        c->session = soup_session_new_with_options(
            "timeout", c->timeout ? c->timeout : CALL_TIMEOUT, "user-agent",
            "hostdev-engine-client/" HOSTDEV_VERSION, NULL);
        if (c->ca_file) {
                g_autoptr(GTlsDatabase) db = g_tls_file_database_new(c->ca_file, &local);
                if (!db)
                        return set_error(c, error, HD_CLIENT_EXIT_USAGE, "invalid-argument",
                                         "--ca-file %s: %s", c->ca_file, local->message);
                soup_session_set_tls_database(c->session, db);
        }
        return TRUE;
}

/* ---- calls ---- */

static HdClientExit exit_for_status(guint status)
{
        switch (status) {
        case 400:
        case 405:
        case 413:
                return HD_CLIENT_EXIT_USAGE;
        case 401:
                return HD_CLIENT_EXIT_UNAUTHORIZED;
        case 403:
        case 409:
                return HD_CLIENT_EXIT_REFUSED;
        case 404:
                return HD_CLIENT_EXIT_NOT_FOUND;
        default:
                return HD_CLIENT_EXIT_FAILED;
        }
}

gboolean hd_client_call(HdClient *c, const char *method, const char *path, JsonNode *body,
                        JsonNode **out, GError **error)
{
        g_autofree char *uri = NULL;
        g_autoptr(SoupMessage) msg = NULL;
        g_autoptr(GBytes) bytes = NULL;
        g_autoptr(GError) local = NULL;
        g_autoptr(JsonNode) answer = NULL;
        g_autofree char *text = NULL;
        guint status;

        if (out)
                *out = NULL;
        if (!connect_session(c, error))
                return FALSE;
        uri = g_strconcat(c->base, path, NULL);
        msg = soup_message_new(method, uri);
        if (!msg)
                return set_error(c, error, HD_CLIENT_EXIT_USAGE, "invalid-argument",
                                 "%s is not a URL the client can call; check --url", uri);
        if (c->token) {
                g_autofree char *auth = g_strconcat("Bearer ", c->token, NULL);
                soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization",
                                             auth);
                explicit_bzero(auth, strlen(auth));
        }
        if (body) {
                char *json = json_to_string(body, FALSE);
                gsize len = strlen(json);
                g_autoptr(GBytes) b = g_bytes_new_take(json, len);
                soup_message_set_request_body_from_bytes(msg, "application/json", b);
        }
        bytes = soup_session_send_and_read(c->session, msg, NULL, &local);
        if (!bytes)
                return set_error(c, error, HD_CLIENT_EXIT_UNREACHABLE, "unreachable",
                                 "cannot reach the engine at %s: %s; is hostdev-engine running "
                                 "there (systemctl status hostdev-engine)? Give its address "
                                 "with --url URL",
                                 c->base, local->message);
        status = soup_message_get_status(msg);
        /* an empty GBytes has no data pointer (204) */
        text = g_bytes_get_size(bytes)
                   ? g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes))
                   : g_strdup("");
        if (*text)
                answer = json_from_string(text, NULL);
        if (status >= 200 && status < 300) {
                if (*text && !answer)
                        return set_error(c, error, HD_CLIENT_EXIT_FAILED, "failed",
                                         "%s %s: the answer is not JSON; is %s a hostdev-engine?",
                                         method, path, c->base);
                if (out)
                        *out = g_steal_pointer(&answer);
                return TRUE;
        }
        {
                JsonObject *root =
                    answer && JSON_NODE_HOLDS_OBJECT(answer) ? json_node_get_object(answer) : NULL;
                JsonNode *en = root ? json_object_get_member(root, "error") : NULL;
                JsonObject *eo = en && JSON_NODE_HOLDS_OBJECT(en) ? json_node_get_object(en) : NULL;
                const char *code = eo ? hd_client_str(eo, "code") : NULL;
                const char *message = eo ? hd_client_str(eo, "message") : NULL;

                if (!message)
                        return set_error(c, error, exit_for_status(status), "failed",
                                         "%s %s: HTTP %u from %s, not an engine error document",
                                         method, path, status, c->base);
                if (status == 401)
                        return set_error(c, error, HD_CLIENT_EXIT_UNAUTHORIZED, code, "%s; %s",
                                         message,
                                         c->token ? "the token (HOSTDEV_ENGINE_TOKEN or "
                                                    "--token-file) is not one of this engine's: "
                                                    "hostdev-engine token list shows them"
                                                  : "set HOSTDEV_ENGINE_TOKEN or give "
                                                    "--token-file FILE");
                return set_error(c, error, exit_for_status(status), code ? code : "failed", "%s",
                                 message);
        }
}

JsonNode *hd_client_get_all(HdClient *c, const char *path_query, const char *member, GError **error)
{
        g_autoptr(JsonNode) first = NULL;
        guint offset = 0;
        const char *sep = strchr(path_query, '?') ? "&" : "?";

        for (;;) {
                g_autofree char *pq =
                    g_strdup_printf("%s%slimit=1000&offset=%u", path_query, sep, offset);
                g_autoptr(JsonNode) page = NULL;
                JsonObject *o;
                JsonArray *items;
                gint64 total;

                if (!hd_client_call(c, "GET", pq, NULL, &page, error))
                        return NULL;
                o = page && JSON_NODE_HOLDS_OBJECT(page) ? json_node_get_object(page) : NULL;
                items = o && json_object_has_member(o, member)
                            ? json_object_get_array_member(o, member)
                            : NULL;
                if (!items || !json_object_has_member(o, "total")) {
                        set_error(c, error, HD_CLIENT_EXIT_FAILED, "failed",
                                  "GET %s: the answer has no \"%s\" list with a total", pq, member);
                        return NULL;
                }
                total = json_object_get_int_member(o, "total");
                offset += json_array_get_length(items);
                if (!first) {
                        first = g_steal_pointer(&page);
                } else {
                        JsonArray *all =
                            json_object_get_array_member(json_node_get_object(first), member);
                        for (guint i = 0; i < json_array_get_length(items); i++)
                                json_array_add_element(
                                    all, json_node_copy(json_array_get_element(items, i)));
                }
                if (json_array_get_length(items) == 0 || offset >= total)
                        break;
        }
        {
                JsonObject *o = json_node_get_object(first);
                json_object_set_int_member(
                    o, "limit", json_array_get_length(json_object_get_array_member(o, member)));
                json_object_set_int_member(o, "offset", 0);
        }
        return g_steal_pointer(&first);
}

char *hd_client_path(const char *collection, const char *id, const char *tail)
{
        g_autofree char *esc = g_uri_escape_string(id, NULL, FALSE);
        return g_strconcat("/v1/", collection, "/", esc, tail ? "/" : "", tail ? tail : "", NULL);
}

static gboolean looks_like_uuid(const char *s)
{
        if (strlen(s) != 36)
                return FALSE;
        for (guint i = 0; i < 36; i++) {
                gboolean dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? s[i] != '-' : !g_ascii_isxdigit(s[i]))
                        return FALSE;
        }
        return TRUE;
}

char *hd_client_resolve(HdClient *c, const char *collection, const char *ref, GError **error)
{
        const char *what = strcmp(collection, "hosts") == 0 ? "host" : "VM";
        g_autoptr(GError) local = NULL;
        g_autoptr(JsonNode) list = NULL;
        g_autofree char *pq = NULL;
        JsonArray *items;

        if (looks_like_uuid(ref)) {
                g_autofree char *path = hd_client_path(collection, ref, NULL);
                if (hd_client_call(c, "GET", path, NULL, NULL, &local))
                        return g_strdup(ref);
                if (!g_error_matches(local, HD_CLIENT_ERROR, HD_CLIENT_EXIT_NOT_FOUND)) {
                        g_propagate_error(error, g_steal_pointer(&local));
                        return NULL;
                }
        }
        if (!hd_engine_name_valid(ref)) {
                set_error(c, error, HD_CLIENT_EXIT_NOT_FOUND, "not-found",
                          "no %s named or numbered \"%s\" (hostdev-engine %s list shows them)",
                          what, ref, collection);
                return NULL;
        }
        /* both lists are sorted by name, and a name sorts before every longer one it
         * starts: the first of its prefix is it, or it does not exist */
        pq = g_strdup_printf("/v1/%s?name_prefix=%s&limit=1", collection, ref);
        if (!hd_client_call(c, "GET", pq, NULL, &list, error))
                return NULL;
        items = list && JSON_NODE_HOLDS_OBJECT(list) &&
                        json_object_has_member(json_node_get_object(list), collection)
                    ? json_object_get_array_member(json_node_get_object(list), collection)
                    : NULL;
        if (!items) {
                set_error(c, error, HD_CLIENT_EXIT_FAILED, "failed",
                          "GET %s: the answer has no \"%s\" list", pq, collection);
                return NULL;
        }
        for (guint i = 0; i < json_array_get_length(items); i++) {
                JsonObject *o = json_array_get_object_element(items, i);
                if (g_strcmp0(hd_client_str(o, "name"), ref) == 0 && hd_client_str(o, "id"))
                        return g_strdup(hd_client_str(o, "id"));
        }
        set_error(c, error, HD_CLIENT_EXIT_NOT_FOUND, "not-found",
                  "no %s named \"%s\" (hostdev-engine %s list shows them)", what, ref, collection);
        return NULL;
}

char *hd_client_start_on(HdClient *c, const char *collection, GOptionContext *octx, int *argc,
                         char ***argv, int extra_min, int extra_max, int *rc)
{
        g_autoptr(GError) error = NULL;
        char *id;

        if (!hd_client_parse(c, octx, argc, argv, 1 + extra_min, 1 + extra_max)) {
                *rc = HD_CLIENT_EXIT_USAGE;
                return NULL;
        }
        id = hd_client_resolve(c, collection, (*argv)[1], &error);
        if (!id)
                *rc = hd_client_fail(c, error);
        return id;
}

int hd_client_request(HdClient *c, const char *method, const char *collection, const char *id,
                      const char *tail, JsonNode *body, JsonNode **out)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = hd_client_path(collection, id, tail);

        if (!hd_client_call(c, method, path, body, out, &error))
                return hd_client_fail(c, error);
        return HD_CLIENT_EXIT_OK;
}

gboolean hd_client_host_read(HdClient *c, GOptionContext *octx, int argc, char **argv,
                             const char *what, const char *member, JsonNode **answer,
                             JsonArray **items, int *rc)
{
        g_autofree char *id = NULL;

        *rc = 0;
        if (!(id = hd_client_start_on(c, "hosts", octx, &argc, &argv, 0, 0, rc)))
                return FALSE;
        if ((*rc = hd_client_request(c, "GET", "hosts", id, what, NULL, answer)))
                return FALSE;
        if (c->json) {
                hd_client_print_json(*answer);
                *rc = HD_CLIENT_EXIT_OK;
                return FALSE;
        }
        *items = json_object_get_array_member(json_node_get_object(*answer), member);
        return TRUE;
}

void hd_client_add_query(GString *pq, const char *const *pairs)
{
        for (const char *const *p = pairs; *p; p += 2)
                if (p[1]) {
                        g_autofree char *v = g_uri_escape_string(p[1], NULL, FALSE);
                        g_string_append_printf(pq, "%s=%s&", p[0], v);
                }
}

JsonNode *hd_client_get_list(HdClient *c, GString *pq, int limit, int offset, const char *member,
                             int *rc)
{
        g_autoptr(GError) error = NULL;
        JsonNode *list = NULL;

        if (limit > 0) {
                g_string_append_printf(pq, "limit=%d&offset=%d", limit, offset);
                if (!hd_client_call(c, "GET", pq->str, NULL, &list, &error))
                        *rc = hd_client_fail(c, error);
                return list;
        }
        g_string_truncate(pq, pq->len - 1); /* the last '&' or '?' */
        list = hd_client_get_all(c, pq->str, member, &error);
        if (!list)
                *rc = hd_client_fail(c, error);
        return list;
}

JsonNode *hd_client_wait(HdClient *c, const char *path, const char *member,
                         const char *const *until, guint timeout, GError **error)
{
        gint64 end = g_get_monotonic_time() + (gint64)timeout * G_USEC_PER_SEC;
        g_autofree char *wanted = g_strjoinv(" or ", (char **)until);

        for (;;) {
                g_autoptr(JsonNode) n = NULL;
                const char *state;

                if (!hd_client_call(c, "GET", path, NULL, &n, error))
                        return NULL;
                state = n && JSON_NODE_HOLDS_OBJECT(n)
                            ? hd_client_str(json_node_get_object(n), member)
                            : NULL;
                if (state && g_strv_contains(until, state))
                        return g_steal_pointer(&n);
                if (g_get_monotonic_time() >= end) {
                        set_error(c, error, HD_CLIENT_EXIT_FAILED, "timeout",
                                  "%s is still %s after %u s (waiting for %s); look at "
                                  "hostdev-engine events, or wait longer with --timeout",
                                  path, state ? state : "unknown", timeout, wanted);
                        return NULL;
                }
                g_usleep(200 * 1000);
        }
}

/* ---- output ---- */

void hd_client_print_json(JsonNode *node)
{
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autofree char *text = NULL;

        json_generator_set_root(gen, node);
        json_generator_set_pretty(gen, TRUE);
        json_generator_set_indent(gen, 2);
        text = json_generator_to_data(gen, NULL);
        fputs(text, stdout);
        fputc('\n', stdout);
}

const char *hd_client_str(JsonObject *o, const char *name)
{
        JsonNode *n = o ? json_object_get_member(o, name) : NULL;

        if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
                return NULL;
        return json_node_get_string(n);
}

char *hd_client_int_text(JsonObject *o, const char *name)
{
        JsonNode *n = o ? json_object_get_member(o, name) : NULL;

        if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
                return g_strdup("-");
        return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(n));
}

char *hd_client_words(JsonObject *o, const char *name)
{
        JsonNode *n = o ? json_object_get_member(o, name) : NULL;
        g_autoptr(GString) s = g_string_new(NULL);
        JsonArray *a;

        if (!n || !JSON_NODE_HOLDS_ARRAY(n))
                return NULL;
        a = json_node_get_array(n);
        for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonNode *e = json_array_get_element(a, i);
                if (JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING)
                        g_string_append_printf(s, "%s%s", s->len ? " " : "",
                                               json_node_get_string(e));
        }
        return g_strdup(s->len ? s->str : "(empty)");
}

char *hd_client_device_ids(JsonObject *d)
{
        const char *vendor = hd_client_str(d, "vendor_id");
        const char *device = hd_client_str(d, "device_id");

        return g_strdup_printf("%s:%s", vendor ? vendor : "?", device ? device : "?");
}

const char *hd_client_bool_text(JsonObject *o, const char *name, const char *yes, const char *no)
{
        JsonNode *n = o ? json_object_get_member(o, name) : NULL;

        if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN)
                return "-";
        return json_node_get_boolean(n) ? yes : no;
}

void hd_client_print_done(const char *id, const char *name, const char *what)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) n = NULL;

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "id");
        json_builder_add_string_value(b, id);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, name);
        json_builder_set_member_name(b, what);
        json_builder_add_boolean_value(b, TRUE);
        json_builder_end_object(b);
        n = json_builder_get_root(b);
        hd_client_print_json(n);
}

void hd_client_kv(const char *label, const char *value)
{
        g_autofree char *shown = hd_utf8_printable(value ? value : "-");
        printf("%-18s %s\n", label, shown);
}

struct HdClientTable {
        guint n;
        int shrink; /* the column trimmed with "…" to fit a terminal, -1 none */
        GPtrArray *rows;
};

void hd_client_table_set_shrink(HdClientTable *t, int column)
{
        t->shrink = column;
}

/* The terminal's width when stdout is one, else 0 (no limit: pipes get whole lines). */
static int terminal_width(void)
{
        struct winsize ws;

        if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
                return 0;
        return ws.ws_col;
}

HdClientTable *hd_client_table_new(guint n_columns, const char *const *headers)
{
        HdClientTable *t = g_new0(HdClientTable, 1);

        t->n = n_columns;
        t->shrink = -1;
        t->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
        hd_client_table_add(t, headers);
        return t;
}

void hd_client_table_add(HdClientTable *t, const char *const *cells)
{
        char **row = g_new0(char *, t->n + 1);

        /* names come from agents and admins: no control bytes on a terminal */
        for (guint i = 0; i < t->n; i++)
                row[i] = cells[i] && *cells[i] ? hd_utf8_printable(cells[i]) : g_strdup("-");
        g_ptr_array_add(t->rows, row);
}

void hd_client_table_print_free(HdClientTable *t)
{
        g_autofree glong *w = g_new0(glong, t->n);

        for (guint r = 0; r < t->rows->len; r++) {
                char **row = t->rows->pdata[r];
                for (guint i = 0; i < t->n; i++)
                        w[i] = MAX(w[i], g_utf8_strlen(row[i], -1));
        }
        if (t->shrink >= 0 && (guint)t->shrink < t->n) {
                int width = terminal_width();
                glong total = 0;
                for (guint i = 0; i < t->n; i++)
                        total += w[i] + (i + 1 < t->n ? 2 : 0);
                if (width > 0 && total > width)
                        w[t->shrink] = MAX(8, w[t->shrink] - (total - width));
        }
        for (guint r = 0; r < t->rows->len; r++) {
                char **row = t->rows->pdata[r];
                g_autoptr(GString) line = g_string_new(NULL);
                for (guint i = 0; i < t->n; i++) {
                        glong len = g_utf8_strlen(row[i], -1);
                        if (len > w[i]) {
                                const char *cut = g_utf8_offset_to_pointer(row[i], w[i] - 1);
                                g_string_append_len(line, row[i], cut - row[i]);
                                g_string_append(line, "…");
                                len = w[i];
                        } else {
                                g_string_append(line, row[i]);
                        }
                        if (i + 1 < t->n)
                                for (glong p = len; p < w[i] + 2; p++)
                                        g_string_append_c(line, ' ');
                }
                while (line->len && line->str[line->len - 1] == ' ')
                        g_string_truncate(line, line->len - 1);
                puts(line->str);
        }
        g_ptr_array_unref(t->rows);
        g_free(t);
}
