/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdev-engine's API client: the admin's subcommands that talk to a running engine over its
 * HTTP API (docs/api/engine-openapi.yaml), never to its database:
 *
 *   hostdev-engine [--url URL] [--token-file FILE] [--json] hosts|vms|events SUBCOMMAND ...
 *
 * client.c      dispatch, common options, the HTTP call (libsoup, synchronous), errors and
 *               exit codes, name-or-id resolution, tables, waiting for a state;
 * client-hosts.c, client-vms.c, client-events.c: one file per resource, each subcommand a
 *               function with its GOption table, usage, description and example;
 * client-usbscsi.c: the USB, SCSI and vhost-scsi subcommands of hosts and vms.
 * client-npiv.c: the NPIV subcommands of hosts.
 *
 * Where things come from:
 *   the URL    --url, else the engine's configuration file (--config, default
 *              /etc/hostdev/hostdev-engine.conf): [engine] listen (a wildcard address becomes
 *              loopback) with https when tls-cert is set, else http://127.0.0.1:8087;
 *   the token  the first line of --token-file FILE, else HOSTDEV_ENGINE_TOKEN; never a
 *              command-line argument (it would show in ps and shell history);
 *   objects    by name or by id: an argument that is an id of the collection is used as it
 *              is, else it is looked up by name (GET ...?name_prefix=NAME, exact match).
 *
 * Output: human tables and key/value lines like the hostdev CLI; with --json, the API's own
 * document (docs/api/engine-openapi.yaml names every field), pretty-printed; lists read every
 * page unless --limit is given; commands whose API answer is empty print a small object
 * ({"id", "name", "removed": true}); `events --follow --json` prints one event object per
 * line. Errors: "hostdev-engine: MESSAGE" on stderr (the engine's message, which names the
 * object and the next step) and, with --json, the engine's error document on stdout.
 *
 * Exit status (HdClientExit): 0 ok; 1 failed (the engine or an agent failed: 5xx,
 * agent-failed, an answer that is not the documented one); 2 bad usage or input the engine
 * refused as invalid (400, 413); 3 refused (409: refused, exists; 403: a viewer token);
 * 4 not found (404); 5 unreachable (no HTTP answer: connection refused, name, TLS,
 * timeout); 6 unauthorized (401: no token, or one this engine does not know).
 */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

typedef enum {
        HD_CLIENT_EXIT_OK = 0,
        HD_CLIENT_EXIT_FAILED = 1,
        HD_CLIENT_EXIT_USAGE = 2,
        HD_CLIENT_EXIT_REFUSED = 3,
        HD_CLIENT_EXIT_NOT_FOUND = 4,
        HD_CLIENT_EXIT_UNREACHABLE = 5,
        HD_CLIENT_EXIT_UNAUTHORIZED = 6,
} HdClientExit;

/* GErrors of the client: the code is the HdClientExit to exit with. */
#define HD_CLIENT_ERROR (hd_client_error_quark())
GQuark hd_client_error_quark(void);

typedef struct {
        /* common options */
        char *url;
        char *token_file;
        char *config;
        char *ca_file;
        gboolean json;
        guint timeout; /* seconds a call may take (0: 90; events --follow: its wait + 30) */
        /* state */
        char *base;  /* the resolved URL, no trailing slash */
        char *token; /* NULL: none given */
        SoupSession *session;
        char *error_code; /* the engine's error code of the last failed call, or a client one */
        char *command;    /* "hosts list", for messages */
} HdClient;

/* main.c: the index of the client command ("hosts", "vms", "events") in @argv, or 0 when
 * the command line is not a client one (the engine's own options before it are skipped). */
int hd_client_command_index(int argc, char **argv);
/* Run the client command at @argv[@idx]; the exit status. */
int hd_client_main(int argc, char **argv, int idx);

/* ---- for the client-*.c files ---- */

typedef struct {
        const char *name;
        int (*run)(HdClient *c, int argc, char **argv);
        const char *summary;
} HdClientCommand;

/* A GOptionContext for a subcommand: usage "PARAMS", its summary, a description with the
 * example(s) and the exit status, @entries and the common options. */
GOptionContext *hd_client_options(HdClient *c, const char *params, const char *summary,
                                  const char *description, const GOptionEntry *entries);
/* Parse; on failure print the reason and return FALSE (exit HD_CLIENT_EXIT_USAGE). Refuses
 * more than @max_args positional arguments and fewer than @min_args. */
gboolean hd_client_parse(HdClient *c, GOptionContext *octx, int *argc, char ***argv, int min_args,
                         int max_args);
/* Print @error (stderr, and the error document on stdout with --json); its exit code. */
int hd_client_fail(HdClient *c, const GError *error);
int hd_client_usage(HdClient *c, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* One API call. @body: a JSON document to send (NULL: none). 2xx: TRUE with the answer in
 * *@out (may be NULL: NULL for an empty answer); otherwise FALSE with the engine's message in
 * @error (code: the exit status). */
gboolean hd_client_call(HdClient *c, const char *method, const char *path, JsonNode *body,
                        JsonNode **out, GError **error);
/* GET every page of a list ("hosts", "devices", ... under @member) of @path_query (which may
 * hold filters); the first answer with @member holding every item. */
JsonNode *hd_client_get_all(HdClient *c, const char *path_query, const char *member,
                            GError **error);

/* The id of the object named or numbered @ref in @collection ("hosts", "vms"). */
char *hd_client_resolve(HdClient *c, const char *collection, const char *ref, GError **error);
/* "/v1/COLLECTION/ID[/TAIL]" with ID escaped. */
char *hd_client_path(const char *collection, const char *id, const char *tail);
/* GET @path until its "status" (hosts) or "state" (vms) member is one of @until (at most
 * @timeout seconds, polling); the last answer. */
JsonNode *hd_client_wait(HdClient *c, const char *path, const char *member,
                         const char *const *until, guint timeout, GError **error);

/* The usual start of a command on one object of @collection ("hosts", "vms"): parse (the
 * object and @extra_min to @extra_max more arguments) and resolve it; its id, or NULL with
 * the error printed and *@rc its exit status. */
char *hd_client_start_on(HdClient *c, const char *collection, GOptionContext *octx, int *argc,
                         char ***argv, int extra_min, int extra_max, int *rc);
/* hd_client_call of @method on hd_client_path(@collection, @id, @tail): HD_CLIENT_EXIT_OK with
 * the answer in *@out (may be NULL), or the error printed (hd_client_fail) and its exit status. */
int hd_client_request(HdClient *c, const char *method, const char *collection, const char *id,
                      const char *tail, JsonNode *body, JsonNode **out);
/* GET /v1/hosts/{id}/@what of HOST (the one argument, hd_client_start_on): TRUE with the
 * answer in *@answer and its @member array in *@items (NULL when absent) for a table; FALSE
 * with *@rc the exit status when it failed, or when --json printed the answer. */
gboolean hd_client_host_read(HdClient *c, GOptionContext *octx, int argc, char **argv,
                             const char *what, const char *member, JsonNode **answer,
                             JsonArray **items, int *rc);
/* Append "NAME=VALUE&" to @pq for each pair of @pairs (NAME, VALUE, ..., NULL, NULL) whose
 * VALUE is not NULL, VALUE escaped. */
void hd_client_add_query(GString *pq, const char *const *pairs);
/* GET a list at @pq (a path and query that ends in '?' or '&'): with @limit > 0 that page
 * (@offset), else every page (hd_client_get_all, @member). NULL with the error printed and
 * *@rc its exit status. */
JsonNode *hd_client_get_list(HdClient *c, GString *pq, int limit, int offset, const char *member,
                             int *rc);

/* A warning on stderr when the file @path (a token) may be read by the group or others. */
void hd_client_warn_open_secret(const char *path);

/* ---- output ---- */
void hd_client_print_json(JsonNode *node);
/* A string member, NULL when absent or null (or not a string). */
const char *hd_client_str(JsonObject *o, const char *name);
/* An integer member as text ("-" when absent or null). */
char *hd_client_int_text(JsonObject *o, const char *name);
/* A string array member joined by spaces ("(empty)" / NULL when absent). */
char *hd_client_words(JsonObject *o, const char *name);
/* "VENDOR:DEVICE" of a device object ("?" for an id it lacks). */
char *hd_client_device_ids(JsonObject *d);
/* A boolean member as @yes or @no, "-" when absent or not a boolean. */
const char *hd_client_bool_text(JsonObject *o, const char *name, const char *yes, const char *no);
/* {"id", "name", @what: true} on stdout: the --json output of a command whose API answer is
 * empty. */
void hd_client_print_done(const char *id, const char *name, const char *what);
/* "  LABEL  VALUE" lines, the value made printable. */
void hd_client_kv(const char *label, const char *value);

typedef struct HdClientTable HdClientTable;
HdClientTable *hd_client_table_new(guint n_columns, const char *const *headers);
void hd_client_table_add(HdClientTable *t, const char *const *cells);
/* On a terminal, trim @column with "…" so that lines fit its width (as the hostdev CLI). */
void hd_client_table_set_shrink(HdClientTable *t, int column);
void hd_client_table_print_free(HdClientTable *t);

/* ---- the resources ---- */
extern const HdClientCommand hd_client_host_commands[];   /* client-hosts.c, NULL-terminated */
extern const HdClientCommand hd_client_vm_commands[];     /* client-vms.c */
int hd_client_events(HdClient *c, int argc, char **argv); /* client-events.c */
/* A VM answer: the API's Vm with --json, else its lines and tables (client-vms.c). */
int hd_client_print_vm(HdClient *c, JsonNode *vm);
/* USB devices, SCSI LUNs and vhost-scsi targets (client-usbscsi.c), in the tables of
 * client-hosts.c and
 * client-vms.c */
int hd_client_hosts_usb(HdClient *c, int argc, char **argv);
int hd_client_hosts_scsi(HdClient *c, int argc, char **argv);
int hd_client_vms_add_usb(HdClient *c, int argc, char **argv);
int hd_client_vms_remove_usb(HdClient *c, int argc, char **argv);
int hd_client_vms_add_scsi(HdClient *c, int argc, char **argv);
int hd_client_vms_remove_scsi(HdClient *c, int argc, char **argv);
int hd_client_hosts_vhost_scsi(HdClient *c, int argc, char **argv);
int hd_client_vms_add_vhost_scsi(HdClient *c, int argc, char **argv);
int hd_client_vms_remove_vhost_scsi(HdClient *c, int argc, char **argv);
/* client-sriov.c: hosts sriov, hosts mdev, vms add-mdev, vms remove-mdev */
int hd_client_hosts_sriov(HdClient *c, int argc, char **argv);
int hd_client_hosts_mdev(HdClient *c, int argc, char **argv);
int hd_client_vms_add_mdev(HdClient *c, int argc, char **argv);
int hd_client_vms_remove_mdev(HdClient *c, int argc, char **argv);
/* client-npiv.c: hosts npiv, hosts npiv-create, hosts npiv-delete */
int hd_client_hosts_npiv(HdClient *c, int argc, char **argv);
int hd_client_hosts_npiv_create(HdClient *c, int argc, char **argv);
int hd_client_hosts_npiv_delete(HdClient *c, int argc, char **argv);
