/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The per-host sync (hosts.h): the state machine's transitions, the long polls, the diff
 * handed to the store. The admin's transitions (maintenance, reboot, activate) are store calls
 * made by api-hostlife.c; here the sync writes its own status only through
 * hd_store_host_set_sync_status(), which leaves a host in maintenance or rebooting there,
 * and ends rebooting when GET /v1/host answers with a new boot id (on_host). Everything here runs
 * on the main thread; a request's callback holds a reference on its HdSync and does nothing once
 * the request was cancelled (the host was removed, edited or failed: the cancellable is replaced,
 * never reused).
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "devices.h"
#include "hosts.h"
#include "inventory-json.h"
#include "npiv.h"

struct HdSyncManager {
        HdStore *store;
        GCancellable *calls; /* hd_sync_agent_call()s: cancelled with the manager */
        HdSyncConfig cfg;
        char *owner;
        HdSyncEventFunc event;
        gpointer user_data;
        GHashTable *hosts; /* id -> HdSync */
};

typedef struct {
        gint ref;
        HdSyncManager *m; /* NULL once stopped */
        char *id;
        char *url;   /* without the trailing slash */
        char *token; /* the agent's */
        GTlsCertificate *pinned;
        char *tls_error; /* the host's CA file or pinned certificate cannot be used */
        SoupSession *session;
        GCancellable *cancel;
        guint timer;
        guint backoff;
        gboolean up;
        gboolean polling;
        guint npiv_unread; /* the status of the last GET /v1/npiv that was not read (0: none;
                            * logged once per status, the seen names kept) */
        /* whether a new device generation reads GET /v1/npiv again (npiv_due()) */
        gboolean npiv_read; /* its last answer since connecting was the NPIV document */
        gboolean npiv_fc;   /* ... and it listed an FC host, a vport or a recorded vport */
        gboolean npiv_hint; /* the last device read may show an FC host come or gone */
        char *fc_hbas;      /* the FC HBAs of the last device read: "ADDRESS=DRIVER;"... */
} HdSync;

typedef void (*ReplyFunc)(HdSync *s, guint status, GBytes *body, const char *etag);

typedef struct {
        HdSync *sync;
        SoupMessage *msg;
        ReplyFunc func;
        GCancellable *cancel;
        char *what;
        gboolean optional; /* a 404 is an answer (an agent older than the endpoint) */
        gboolean lenient;  /* every answer, or none (status 0), is the callback's */
} Call;

static HdSync *sync_ref(HdSync *s)
{
        g_atomic_int_inc(&s->ref);
        return s;
}

static void sync_unref(HdSync *s)
{
        if (!g_atomic_int_dec_and_test(&s->ref))
                return;
        g_free(s->id);
        g_free(s->url);
        g_free(s->tls_error);
        g_free(s->fc_hbas);
        if (s->token)
                explicit_bzero(s->token, strlen(s->token));
        g_free(s->token);
        g_clear_object(&s->pinned);
        g_clear_object(&s->session);
        g_clear_object(&s->cancel);
        g_free(s);
}

static void emit(HdSync *s, const char *action, const char *result, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

static void emit(HdSync *s, const char *action, const char *result, const char *fmt, ...)
{
        g_autofree char *message = NULL;
        va_list ap;

        va_start(ap, fmt);
        message = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        if (s->m && s->m->event)
                s->m->event(s->id, action, result, message, s->m->user_data);
}

static void connect_host(HdSync *s);
static void poll_kind(HdSync *s, HdInvKind kind);

/* ---- failure and backoff ---- */

static gboolean retry_cb(gpointer data)
{
        HdSync *s = data;

        s->timer = 0;
        connect_host(s);
        return G_SOURCE_REMOVE;
}

static void restart_cancellable(HdSync *s)
{
        g_cancellable_cancel(s->cancel);
        g_clear_object(&s->cancel);
        s->cancel = g_cancellable_new();
        s->polling = FALSE;
}

/* Any agent call failed: non_responsive, abort the other calls, retry after the backoff. */
static void fail(HdSync *s, const char *message)
{
        g_autoptr(GError) error = NULL;
        HdHostStatus status = HD_HOST_NON_RESPONSIVE;

        restart_cancellable(s);
        g_clear_handle_id(&s->timer, g_source_remove);
        s->backoff = s->backoff ? MIN(s->backoff * 2, s->m->cfg.retry_max) : 1;
        /* maintenance and rebooting are held: the failure is the host's last_error */
        if (!hd_store_host_set_sync_status(s->m->store, s->id, HD_HOST_NON_RESPONSIVE, message,
                                           s->backoff, &status, &error))
                g_warning("host %s: %s", s->id, error->message);
        if ((s->up || s->backoff == 1) && status == HD_HOST_NON_RESPONSIVE)
                emit(s, "host.non_responsive", "failed", "%s; retrying in %u s", message,
                     s->backoff);
        s->up = FALSE;
        s->timer = g_timeout_add_seconds(s->backoff, retry_cb, s);
}

/* ---- calls ---- */

static void call_free(Call *c)
{
        sync_unref(c->sync);
        g_object_unref(c->msg);
        g_object_unref(c->cancel);
        g_free(c->what);
        g_free(c);
}

static void on_reply(GObject *src, GAsyncResult *res, gpointer data)
{
        Call *c = data;
        HdSync *s = c->sync;
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) body = soup_session_send_and_read_finish(SOUP_SESSION(src), res, &error);
        guint status;

        if (g_cancellable_is_cancelled(c->cancel) || !s->m || c->cancel != s->cancel) {
                call_free(c);
                return;
        }
        if (c->lenient) {
                c->func(s, body ? soup_message_get_status(c->msg) : 0, body, NULL);
                call_free(c);
                return;
        }
        if (!body) {
                g_autofree char *m = g_strdup_printf("%s: %s", c->what, error->message);
                fail(s, m);
                call_free(c);
                return;
        }
        status = soup_message_get_status(c->msg);
        if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN) {
                g_autofree char *m = g_strdup_printf(
                    "%s: the agent refused the host's agent token (%u); set the agent's token "
                    "with PATCH /v1/hosts/{id}",
                    c->what, status);
                fail(s, m);
        } else if (status != SOUP_STATUS_OK && status != SOUP_STATUS_NOT_MODIFIED &&
                   !(c->optional && status == SOUP_STATUS_NOT_FOUND)) {
                g_autofree char *m =
                    g_strdup_printf("%s: the agent answered HTTP %u", c->what, status);
                fail(s, m);
        } else {
                c->func(s, status, body,
                        soup_message_headers_get_one(soup_message_get_response_headers(c->msg),
                                                     "ETag"));
        }
        call_free(c);
}

static gboolean accept_pinned(SoupMessage *msg, GTlsCertificate *cert, GTlsCertificateFlags errors,
                              gpointer data)
{
        HdSync *s = data;
        /* the pinned certificate is accepted whoever signed it; nothing else that failed */
        return s->pinned && g_tls_certificate_is_same(cert, s->pinned);
}

static Call *call(HdSync *s, const char *path_query, const char *etag, ReplyFunc func)
{
        g_autofree char *uri = g_strconcat(s->url, path_query, NULL);
        g_autofree char *auth = g_strconcat("Bearer ", s->token, NULL);
        Call *c = g_new0(Call, 1);

        c->msg = soup_message_new("GET", uri);
        if (!c->msg) {
                g_free(c);
                fail(s, "the host's agent URL is not a valid http(s) URL; edit the host");
                return NULL;
        }
        c->sync = sync_ref(s);
        c->func = func;
        c->cancel = g_object_ref(s->cancel);
        c->what = g_strdup_printf("GET %s", path_query);
        soup_message_headers_replace(soup_message_get_request_headers(c->msg), "Authorization",
                                     auth);
        if (etag)
                soup_message_headers_replace(soup_message_get_request_headers(c->msg),
                                             "If-None-Match", etag);
        if (s->pinned)
                g_signal_connect(c->msg, "accept-certificate", G_CALLBACK(accept_pinned), s);
        soup_session_send_and_read_async(s->session, c->msg, G_PRIORITY_DEFAULT, c->cancel,
                                         on_reply, c);
        return c;
}

/* ---- parsing the agent's answers ---- */

static JsonObject *parse_object(GBytes *body)
{
        g_autoptr(JsonParser) p = json_parser_new_immutable();
        gsize len = 0;
        const char *data = g_bytes_get_data(body, &len);
        JsonNode *root;

        if (!json_parser_load_from_data(p, data, (gssize)len, NULL))
                return NULL;
        root = json_parser_get_root(p);
        return root && JSON_NODE_HOLDS_OBJECT(root) ? json_object_ref(json_node_get_object(root))
                                                    : NULL;
}

static const char *obj_string(JsonObject *o, const char *name)
{
        JsonNode *n = o ? json_object_get_member(o, name) : NULL;
        return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
                   ? json_node_get_string(n)
                   : NULL;
}

static JsonObject *obj_object(JsonObject *o, const char *name)
{
        JsonNode *n = o ? json_object_get_member(o, name) : NULL;
        return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static char *member_json(JsonObject *o, const char *name)
{
        JsonNode *n = o ? json_object_get_member(o, name) : NULL;
        return n && JSON_NODE_HOLDS_ARRAY(n) ? json_to_string(n, FALSE) : NULL;
}

/* GET /v1/host: passthrough, its reason, CPU vendor, kernel, kernel arguments. */
static gboolean store_facts(HdSync *s, GBytes *body)
{
        g_autoptr(JsonObject) o = parse_object(body);
        g_autoptr(GError) error = NULL;
        g_autoptr(GString) reason = g_string_new(NULL);
        JsonObject *ready = obj_object(o, "readiness");
        JsonObject *kargs = obj_object(o, "kernel_args");
        g_autofree char *running = member_json(kargs, "running");
        g_autofree char *configured = member_json(kargs, "configured");
        HdHostFacts f = {.passthrough = -1};
        JsonNode *n;

        if (!o || !ready)
                return FALSE;
        n = json_object_get_member(ready, "passthrough_possible");
        if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_BOOLEAN)
                f.passthrough = json_node_get_boolean(n) ? 1 : 0;
        n = json_object_get_member(ready, "checks");
        if (n && JSON_NODE_HOLDS_ARRAY(n)) {
                JsonArray *checks = json_node_get_array(n);
                for (guint i = 0; i < json_array_get_length(checks); i++) {
                        JsonNode *c = json_array_get_element(checks, i);
                        JsonObject *co = JSON_NODE_HOLDS_OBJECT(c) ? json_node_get_object(c) : NULL;
                        const char *st = obj_string(co, "status");
                        const char *summary = obj_string(co, "summary");
                        if (st && summary && strcmp(st, "fail") == 0)
                                g_string_append_printf(reason, "%s%s", reason->len ? "; " : "",
                                                       summary);
                }
        }
        if (f.passthrough == 1 && reason->len == 0)
                g_string_assign(reason, "every passthrough check passes");
        f.passthrough_reason = reason->len ? reason->str : NULL;
        f.cpu_vendor = obj_string(o, "cpu_vendor");
        f.kernel_release = obj_string(o, "kernel");
        f.kernel_args_running = running;
        f.kernel_args_configured = configured;
        f.boot_id = obj_string(o, "boot_id");
        n = kargs ? json_object_get_member(kargs, "reboot_required") : NULL;
        f.reboot_required = n && JSON_NODE_HOLDS_VALUE(n) &&
                            json_node_get_value_type(n) == G_TYPE_BOOLEAN &&
                            json_node_get_boolean(n);
        if (!hd_store_host_set_facts(s->m->store, s->id, &f, &error)) {
                g_warning("host %s: %s", s->id, error->message);
                return FALSE;
        }
        return TRUE;
}

/* One pass over the bytes, no JSON tree (inventory-json.h: at 1,000 hosts json-glib's tree and
 * the text generated again per element were most of the sync's CPU time). */
static GPtrArray *parse_inventory(GBytes *body, HdInvKind kind)
{
        gsize len = 0;
        const char *data = g_bytes_get_data(body, &len);

        return hd_inventory_json_parse(data ? data : "", len, kind, NULL);
}

/* The FC HBAs among the agent's devices (PCI class 0x0c04, Fibre Channel; an item's data is
 * the agent's compact text, inventory-json.h, where the class is "0c04XX"), with their drivers:
 * "ADDRESS=DRIVER;" each, in the agent's order. */
static char *fc_hbas(GPtrArray *items)
{
        GString *out = g_string_new(NULL);

        for (guint i = 0; i < items->len; i++) {
                HdInvItem *it = items->pdata[i];
                if (strstr(it->data, "\"class\":\"0c04"))
                        g_string_append_printf(out, "%s=%s;", it->key,
                                               it->driver ? it->driver : "");
        }
        return g_string_free(out, FALSE);
}

/* A 200 of /v1/devices or /v1/groups: one transaction. */
static gboolean apply(HdSync *s, HdInvKind kind, GBytes *body, const char *etag)
{
        g_autoptr(GPtrArray) items = parse_inventory(body, kind);
        g_autoptr(GError) error = NULL;
        const char *what = kind == HD_INV_DEVICES ? "devices" : "groups";
        HdInvDiff diff;

        if (!items) {
                g_autofree char *m =
                    g_strdup_printf("GET /v1/%s: the agent's answer is not the inventory "
                                    "document (docs/api/openapi.yaml)",
                                    what);
                fail(s, m);
                return FALSE;
        }
        if (!hd_store_inventory_apply(s->m->store, s->id, kind, etag, items, &diff, &error)) {
                g_warning("host %s: %s", s->id, error->message);
                fail(s, error->message);
                return FALSE;
        }
        if (kind == HD_INV_DEVICES) {
                g_autofree char *hbas = fc_hbas(items);
                /* no device changed: the generation moved for something else (npiv_due()) */
                s->npiv_hint = !(diff.inserted || diff.updated || diff.deleted) ||
                               g_strcmp0(hbas, s->fc_hbas) != 0;
                g_free(s->fc_hbas);
                s->fc_hbas = g_steal_pointer(&hbas);
        }
        if (diff.inserted || diff.updated || diff.deleted)
                emit(s, kind == HD_INV_DEVICES ? "host.sync.devices" : "host.sync.groups", "ok",
                     "%u %s: %u new, %u changed, %u gone", items->len, what, diff.inserted,
                     diff.updated, diff.deleted);
        /* a device generation read (connecting, or a long poll's 200): the VMs' reconcile */
        if (kind == HD_INV_DEVICES && s->m->cfg.host_synced)
                s->m->cfg.host_synced(s->id, s->m->user_data);
        return TRUE;
}

/* GET /v1/mdev: its parents' types flattened to HdHostMdevType rows; NULL when the answer is not
 * the agent's MdevInventory document. */
GPtrArray *hd_sync_parse_mdev(GBytes *body)
{
        g_autoptr(JsonObject) o = parse_object(body);
        g_autoptr(GPtrArray) out =
            g_ptr_array_new_with_free_func((GDestroyNotify)hd_host_mdev_type_free);
        JsonNode *n = o ? json_object_get_member(o, "parents") : NULL;
        JsonArray *parents;

        if (!n || !JSON_NODE_HOLDS_ARRAY(n))
                return NULL;
        parents = json_node_get_array(n);
        for (guint i = 0; i < json_array_get_length(parents); i++) {
                JsonNode *pn = json_array_get_element(parents, i);
                JsonObject *po = JSON_NODE_HOLDS_OBJECT(pn) ? json_node_get_object(pn) : NULL;
                const char *parent = obj_string(po, "parent");
                JsonNode *tn = po ? json_object_get_member(po, "types") : NULL;
                JsonArray *types;

                if (!parent || !tn || !JSON_NODE_HOLDS_ARRAY(tn))
                        return NULL;
                types = json_node_get_array(tn);
                for (guint j = 0; j < json_array_get_length(types); j++) {
                        JsonNode *e = json_array_get_element(types, j);
                        JsonObject *to = JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e) : NULL;
                        const char *type = obj_string(to, "type");
                        JsonNode *avail =
                            to ? json_object_get_member(to, "available_instances") : NULL;
                        JsonNode *inst = to ? json_object_get_member(to, "instances") : NULL;
                        HdHostMdevType *t;

                        if (!type)
                                return NULL;
                        t = g_new0(HdHostMdevType, 1);
                        t->parent = g_strdup(parent);
                        t->type = g_strdup(type);
                        t->name = g_strdup(obj_string(to, "name"));
                        t->description = g_strdup(obj_string(to, "description"));
                        t->device_api = g_strdup(obj_string(to, "device_api"));
                        t->available_instances =
                            avail && JSON_NODE_HOLDS_VALUE(avail) &&
                                    json_node_get_value_type(avail) == G_TYPE_INT64
                                ? MAX(json_node_get_int(avail), 0)
                                : -1;
                        t->instances = inst && JSON_NODE_HOLDS_ARRAY(inst)
                                           ? json_array_get_length(json_node_get_array(inst))
                                           : 0;
                        g_ptr_array_add(out, t);
                }
        }
        return g_steal_pointer(&out);
}

/* A GET /v1/mdev answer: the host's mdev types replaced when the agent's ETag moved. A 404 is
 * an agent without the endpoint: no types. */
static void on_mdev(HdSync *s, guint status, GBytes *body, const char *etag)
{
        g_autoptr(GPtrArray) types = NULL;
        g_autoptr(GError) error = NULL;
        gboolean changed = FALSE;

        if (status == SOUP_STATUS_NOT_FOUND)
                types = g_ptr_array_new();
        else if (status == SOUP_STATUS_OK)
                types = hd_sync_parse_mdev(body);
        else
                return;
        if (!types)
                return fail(s, "GET /v1/mdev: the agent's answer is not the mdev document "
                               "(docs/api/openapi.yaml)");
        if (!hd_store_host_mdev_apply(s->m->store, s->id,
                                      status == SOUP_STATUS_NOT_FOUND ? "none" : etag, types,
                                      &changed, &error)) {
                g_warning("host %s: %s", s->id, error->message);
                return fail(s, error->message);
        }
        if (changed && types->len)
                emit(s, "host.sync.mdev", "ok", "%u mediated device types", types->len);
}

static void read_mdev(HdSync *s)
{
        Call *c = call(s, "/v1/mdev", NULL, on_mdev);

        if (c)
                c->optional = TRUE;
}

gboolean hd_sync_wwn_canonical(const char *text, char out[19])
{
        guint64 v;

        if (!text || !hd_npiv_wwn_parse(text, "WWN", &v, NULL))
                return FALSE;
        hd_npiv_wwn_format(v, out);
        return TRUE;
}

gboolean hd_sync_npiv_seen(HdStore *store, const char *host_id, JsonObject *doc, gboolean *changed,
                           GError **error)
{
        g_autoptr(GPtrArray) wwns = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        static const char *const lists[] = {"fc_hosts", "vports", "recorded"};
        static const char *const wwn_members[] = {"port_name", "node_name"};

        for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
                JsonNode *an = json_object_get_member(doc, lists[l]);
                JsonArray *a = an && JSON_NODE_HOLDS_ARRAY(an) ? json_node_get_array(an) : NULL;

                for (guint i = 0; a && i < json_array_get_length(a); i++) {
                        JsonNode *on = json_array_get_element(a, i);
                        JsonObject *o =
                            JSON_NODE_HOLDS_OBJECT(on) ? json_node_get_object(on) : NULL;
                        g_autofree char *name = NULL;

                        if (!o)
                                continue;
                        if (l == 0 && obj_string(o, "vport"))
                                continue; /* a vHBA: its vport is listed */
                        name = l == 0   ? g_strdup_printf("FC host %s", obj_string(o, "host"))
                               : l == 1 ? g_strdup_printf("vport %s", obj_string(o, "name"))
                                        : g_strdup_printf("recorded vport %s",
                                                          obj_string(o, "port_name"));
                        for (guint w = 0; w < G_N_ELEMENTS(wwn_members); w++) {
                                char buf[19];
                                if (!hd_sync_wwn_canonical(obj_string(o, wwn_members[w]), buf))
                                        continue;
                                g_ptr_array_add(wwns, g_strdup(buf));
                                g_ptr_array_add(names, g_strdup(name));
                        }
                }
        }
        return hd_store_npiv_seen(store, host_id, wwns, names, changed, error);
}

/* A GET /v1/npiv answer: the host's port and node names recorded, so the engine's new pairs
 * avoid the vports made outside it. Any other answer (404: an agent without NPIV; a failure of
 * the agent's read; none) keeps the names last recorded and never fails the sync: logged once
 * until the next 200. */
static void on_npiv(HdSync *s, guint status, GBytes *body, const char *etag)
{
        g_autoptr(JsonObject) o = status == SOUP_STATUS_OK ? parse_object(body) : NULL;
        g_autoptr(GError) error = NULL;
        gboolean changed = FALSE;

        s->npiv_read = o != NULL;
        if (!o) {
                guint unread = status ? status : G_MAXUINT;
                if (s->npiv_unread != unread)
                        g_message("host %s: GET /v1/npiv: %s (HTTP %u); the names it showed "
                                  "last stay counted",
                                  s->id,
                                  status == SOUP_STATUS_OK          ? "not the NPIV document"
                                  : status == SOUP_STATUS_NOT_FOUND ? "an agent without NPIV"
                                  : status                          ? "the agent failed"
                                                                    : "no answer",
                                  status);
                s->npiv_unread = unread;
                return;
        }
        s->npiv_unread = 0;
        s->npiv_fc = FALSE;
        for (const char *const *l = (const char *const[]){"fc_hosts", "vports", "recorded", NULL};
             *l; l++) {
                JsonNode *an = json_object_get_member(o, *l);
                /* not an array: what it may hold is unknown, so it may hold one */
                if (!an || !JSON_NODE_HOLDS_ARRAY(an) ||
                    json_array_get_length(json_node_get_array(an)) > 0)
                        s->npiv_fc = TRUE;
        }
        if (!hd_sync_npiv_seen(s->m->store, s->id, o, &changed, &error)) {
                g_warning("host %s: %s", s->id, error->message);
                return;
        }
        if (changed)
                emit(s, "host.sync.npiv", "ok", "the FC hosts and vports the agent shows changed");
}

static void read_npiv(HdSync *s)
{
        Call *c = call(s, "/v1/npiv", NULL, on_npiv);

        if (c)
                c->lenient = TRUE;
}

/* Whether a new device generation reads GET /v1/npiv (connecting always does). What the sync
 * records of it, the FC hosts' and vports' port and node names, changes only when an FC host
 * comes or goes: an FC HBA bound or unbound, plugged or unplugged; a vport made or deleted (its
 * vHBA is an FC host), which needs a vport-capable FC host as its parent; an FCoE instance made
 * on a NIC (libfc's FC host); or the agent's recorded vports. So the read is due when:
 *   - the last read since connecting did not give the NPIV document (a failure, an agent
 *     without NPIV, none yet): nothing is known, as before this rule;
 *   - its document listed an FC host, a vport or a recorded vport (or a list that is not an
 *     array): every generation, as before, since the port names and vports may change;
 *   - the new device read changed no device at all: the generation moved for something the
 *     PCI inventory does not show (a SCSI host appearing, as every new FC host is, a USB
 *     device, a VM opening a group, the agent's own NPIV calls), so an FC host may have come;
 *   - the FC HBAs (PCI class 0x0c04) or their drivers differ from the last device read: a
 *     hot-plugged or newly bound HBA brings its FC host, one unbound takes it.
 * Skipped thus only on a host whose last document listed no FC host, vport or recorded vport
 * and whose new generation changed PCI devices other than FC HBAs: a vport cannot appear there
 * (it needs an FC host parent), nor an HBA's FC host. The one FC host that comes without a PCI
 * change, an FCoE instance on a NIC, is a new SCSI host whose generation changes no PCI device
 * unless another PCI change falls in the same generation (the agent gathers a burst of changes
 * into one); then the next generation without PCI changes (its LUNs appearing) reads it. */
static gboolean npiv_due(HdSync *s)
{
        return !s->npiv_read || s->npiv_fc || s->npiv_hint;
}

/* ---- up: the long polls ---- */

static gboolean lease(HdSync *s)
{
        g_autoptr(GError) error = NULL;

        if (hd_store_lease_claim(s->m->store, s->id, s->m->owner, s->m->cfg.lease_ttl, &error))
                return TRUE;
        if (error)
                g_warning("host %s: %s", s->id, error->message);
        /* another replica syncs it: look again when its lease may have expired */
        s->timer = g_timeout_add_seconds(s->m->cfg.lease_ttl, retry_cb, s);
        return FALSE;
}

static void on_facts_refreshed(HdSync *s, guint status, GBytes *body, const char *etag)
{
        if (!store_facts(s, body))
                fail(s, "GET /v1/host: the agent's answer is not the host document");
}

static void on_groups_refreshed(HdSync *s, guint status, GBytes *body, const char *etag)
{
        if (status == SOUP_STATUS_OK)
                apply(s, HD_INV_GROUPS, body, etag);
}

static void on_poll(HdSync *s, HdInvKind kind, guint status, GBytes *body, const char *etag)
{
        if (status == SOUP_STATUS_OK) {
                if (!apply(s, kind, body, etag))
                        return;
                /* one generation for devices and groups (the agent's ETag): a new one on
                 * devices is a new one on groups, so groups need no long poll of their own */
                if (kind == HD_INV_DEVICES) {
                        call(s, "/v1/host", NULL, on_facts_refreshed);
                        call(s, "/v1/groups", NULL, on_groups_refreshed);
                        read_mdev(s);
                        if (npiv_due(s))
                                read_npiv(s);
                }
        }
        poll_kind(s, kind);
}

static void on_poll_devices(HdSync *s, guint status, GBytes *body, const char *etag)
{
        on_poll(s, HD_INV_DEVICES, status, body, etag);
}

static void on_poll_groups(HdSync *s, guint status, GBytes *body, const char *etag)
{
        on_poll(s, HD_INV_GROUPS, status, body, etag);
}

static void poll_kind(HdSync *s, HdInvKind kind)
{
        g_autoptr(HdHost) h = hd_store_host_get(s->m->store, s->id, NULL);
        g_autofree char *pq = NULL;

        if (!h || !lease(s))
                return;
        pq = g_strdup_printf("/v1/%s?wait=%u", kind == HD_INV_DEVICES ? "devices" : "groups",
                             s->m->cfg.poll_wait);
        call(s, pq, kind == HD_INV_DEVICES ? h->devices_etag : h->groups_etag,
             kind == HD_INV_DEVICES ? on_poll_devices : on_poll_groups);
}

/* ---- connecting: host, devices, groups, then up ---- */

static void on_groups(HdSync *s, guint status, GBytes *body, const char *etag)
{
        g_autoptr(GError) error = NULL;
        gboolean was_up = s->up;
        guint backoff = s->backoff;
        HdHostStatus held = HD_HOST_UP;

        if (status != SOUP_STATUS_OK || !apply(s, HD_INV_GROUPS, body, etag))
                return status == SOUP_STATUS_OK ? (void)0 : fail(s, "GET /v1/groups: no answer");
        s->up = TRUE;
        s->backoff = 0;
        if (!hd_store_host_set_sync_status(s->m->store, s->id, HD_HOST_UP, NULL, 0, &held,
                                           &error))
                g_warning("host %s: %s", s->id, error->message);
        if (!was_up && held == HD_HOST_UP)
                emit(s, "host.up", "ok", backoff ? "the agent answers again" : "the agent answers");
        else if (!was_up) /* maintenance stays until an admin activates the host */
                emit(s, "host.sync", "ok", "the agent answers; the host stays in %s",
                     hd_host_status_to_string(held));
        s->polling = TRUE;
        read_mdev(s);
        read_npiv(s);
        poll_kind(s, HD_INV_DEVICES);
}

static void on_devices(HdSync *s, guint status, GBytes *body, const char *etag)
{
        if (status != SOUP_STATUS_OK)
                return fail(s, "GET /v1/devices: no answer");
        if (apply(s, HD_INV_DEVICES, body, etag))
                call(s, "/v1/groups", NULL, on_groups);
}

static void on_host(HdSync *s, guint status, GBytes *body, const char *etag)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdHost) h = NULL;
        gboolean back = FALSE;

        if (status != SOUP_STATUS_OK || !store_facts(s, body))
                return fail(s, "GET /v1/host: the agent's answer is not the host document");
        h = hd_store_host_get(s->m->store, s->id, &error);
        if (h && h->status == HD_HOST_REBOOTING) {
                /* rebooting ends with the first answer that carries another boot id */
                if (!hd_store_host_reboot_seen(s->m->store, s->id, h->boot_id, &back, &error))
                        g_warning("host %s: %s", s->id, error->message);
                if (!back)
                        return fail(s, "the host has not rebooted yet: its agent answers with "
                                       "the boot id it had before the reboot");
                emit(s, "host.rebooted", "ok", "back with boot id %s, in maintenance", h->boot_id);
                s->backoff = 0;
        }
        call(s, "/v1/devices", NULL, on_devices);
}

static void connect_host(HdSync *s)
{
        /* never fall back to the system's CAs: the files are read again on edit or refresh */
        if (s->tls_error)
                return fail(s, s->tls_error);
        if (!lease(s))
                return;
        call(s, "/v1/host", NULL, on_host);
}

/* ---- the manager ---- */

static void stop(HdSync *s)
{
        g_cancellable_cancel(s->cancel);
        g_clear_handle_id(&s->timer, g_source_remove);
        s->m = NULL;
        sync_unref(s);
}

HdSyncManager *hd_sync_manager_new(HdStore *store, const HdSyncConfig *config,
                                   HdSyncEventFunc event, gpointer user_data)
{
        HdSyncManager *m = g_new0(HdSyncManager, 1);

        m->store = store;
        m->cfg = *config;
        m->owner = g_strdup(config->owner);
        m->cfg.owner = m->owner;
        m->event = event;
        m->user_data = user_data;
        m->hosts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)stop);
        m->calls = g_cancellable_new();
        return m;
}

void hd_sync_manager_free(HdSyncManager *m)
{
        if (!m)
                return;
        g_cancellable_cancel(m->calls);
        g_clear_object(&m->calls);
        g_hash_table_destroy(m->hosts);
        g_free(m->owner);
        g_free(m);
}

gboolean hd_sync_manager_start_all(HdSyncManager *m, GError **error)
{
        g_autoptr(GPtrArray) ids = hd_store_host_ids(m->store, error);

        if (!ids)
                return FALSE;
        for (guint i = 0; i < ids->len; i++)
                hd_sync_host_start(m, ids->pdata[i]);
        return TRUE;
}

void hd_sync_host_start(HdSyncManager *m, const char *host_id)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdHost) h = hd_store_host_get(m->store, host_id, &error);
        HdSync *s;

        g_hash_table_remove(m->hosts, host_id);
        if (!h)
                return;
        s = g_new0(HdSync, 1);
        s->ref = 1;
        s->m = m;
        s->id = g_strdup(host_id);
        s->url = g_strdup(h->agent_url);
        if (g_str_has_suffix(s->url, "/"))
                s->url[strlen(s->url) - 1] = '\0';
        s->token = hd_store_host_get_secret(m->store, host_id, NULL);
        if (!s->token)
                s->token = g_strdup("");
        s->cancel = g_cancellable_new();
        /* the agent holds a long poll poll_wait seconds: allow it that and some */
        s->session = soup_session_new_with_options("timeout", m->cfg.poll_wait + 15,
                                                   "max-conns-per-host", 4, NULL);
        g_hash_table_insert(m->hosts, g_strdup(host_id), s);
        if (h->tls_ca_file) {
                GTlsDatabase *db = g_tls_file_database_new(h->tls_ca_file, &error);
                if (!db) {
                        s->tls_error =
                            g_strdup_printf("the host's TLS CA file: %s; fix it, then POST "
                                            "/v1/hosts/{id}/refresh",
                                            error->message);
                        connect_host(s);
                        return;
                }
                soup_session_set_tls_database(s->session, db);
                g_object_unref(db);
        }
        if (h->tls_pinned_cert) {
                s->pinned = g_tls_certificate_new_from_file(h->tls_pinned_cert, &error);
                if (!s->pinned) {
                        s->tls_error =
                            g_strdup_printf("the host's pinned certificate: %s; fix it, then POST "
                                            "/v1/hosts/{id}/refresh",
                                            error->message);
                        connect_host(s);
                        return;
                }
        }
        connect_host(s);
}

void hd_sync_host_stop(HdSyncManager *m, const char *host_id)
{
        g_hash_table_remove(m->hosts, host_id);
}

/* ---- one-off agent calls ---- */

typedef struct {
        HdSync *sync; /* NULL when the call failed before it was sent */
        SoupMessage *msg;
        HdAgentReplyFunc func;
        gpointer user_data;
        GError *error; /* the early failure */
} AgentCall;

static void agent_call_free(AgentCall *c)
{
        if (c->sync)
                sync_unref(c->sync);
        g_clear_object(&c->msg);
        g_clear_error(&c->error);
        g_free(c);
}

static gboolean agent_call_fail_idle(gpointer data)
{
        AgentCall *c = data;

        c->func(0, NULL, c->error, c->user_data);
        agent_call_free(c);
        return G_SOURCE_REMOVE;
}

static void on_agent_reply(GObject *src, GAsyncResult *res, gpointer data)
{
        AgentCall *c = data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) body = soup_session_send_and_read_finish(SOUP_SESSION(src), res, &error);

        if (body)
                c->func(soup_message_get_status(c->msg), body, NULL, c->user_data);
        else
                c->func(0, NULL, error, c->user_data);
        agent_call_free(c);
}

void hd_sync_agent_call(HdSyncManager *m, const char *host_id, const char *method,
                        const char *path_query, const char *body, HdAgentReplyFunc func,
                        gpointer user_data)
{
        HdSync *s = g_hash_table_lookup(m->hosts, host_id);
        AgentCall *c = g_new0(AgentCall, 1);
        g_autofree char *uri = NULL;
        g_autofree char *auth = NULL;
        SoupMessageHeaders *h;

        c->func = func;
        c->user_data = user_data;
        if (!s) {
                g_set_error(&c->error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                            "the engine does not sync host %s; POST /v1/hosts/%s/refresh", host_id,
                            host_id);
                g_idle_add(agent_call_fail_idle, c);
                return;
        }
        if (s->tls_error) {
                g_set_error_literal(&c->error, G_IO_ERROR, G_IO_ERROR_FAILED, s->tls_error);
                g_idle_add(agent_call_fail_idle, c);
                return;
        }
        uri = g_strconcat(s->url, path_query, NULL);
        c->msg = soup_message_new(method, uri);
        if (!c->msg) {
                g_set_error_literal(&c->error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                    "the host's agent URL is not a valid http(s) URL; edit the "
                                    "host");
                g_idle_add(agent_call_fail_idle, c);
                return;
        }
        c->sync = sync_ref(s);
        h = soup_message_get_request_headers(c->msg);
        auth = g_strconcat("Bearer ", s->token, NULL);
        soup_message_headers_replace(h, "Authorization", auth);
        if (body) {
                g_autoptr(GBytes) b = g_bytes_new(body, strlen(body));
                soup_message_set_request_body_from_bytes(c->msg, "application/json", b);
        }
        if (s->pinned)
                g_signal_connect(c->msg, "accept-certificate", G_CALLBACK(accept_pinned), s);
        soup_session_send_and_read_async(s->session, c->msg, G_PRIORITY_DEFAULT, m->calls,
                                         on_agent_reply, c);
}
