/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdev-engine events: the audit log through GET /v1/events (client.h); --follow goes on
 * with its long poll (?wait=), so new events show as they are written.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "client.h"
#include "utf8.h"

static void print_line(JsonObject *e)
{
        g_autofree char *id = hd_client_int_text(e, "id");
        g_autofree char *line = g_strdup_printf(
            "#%s %s %s %s %s (%s): %s", id, hd_client_str(e, "at"), hd_client_str(e, "result"),
            hd_client_str(e, "action"), hd_client_str(e, "object"), hd_client_str(e, "actor"),
            hd_client_str(e, "message"));
        g_autofree char *shown = hd_utf8_printable(line);

        puts(shown);
}

static void print_json_line(JsonNode *e)
{
        g_autofree char *text = json_to_string(e, FALSE);

        puts(text);
}

int hd_client_events(HdClient *c, int argc, char **argv)
{
        gint64 since = 0;
        gint limit = 0, wait = 60;
        gboolean follow = FALSE;
        g_autofree char *host = NULL, *vm = NULL, *action = NULL, *object = NULL;
        const GOptionEntry entries[] = {
            {"since", 0, 0, G_OPTION_ARG_INT64, &since, "Only events after event ID (default 0)",
             "ID"},
            {"host", 0, 0, G_OPTION_ARG_STRING, &host, "Only events about HOST (name or id)",
             "HOST"},
            {"vm", 0, 0, G_OPTION_ARG_STRING, &vm, "Only events about VM (name or id)", "VM"},
            {"action", 0, 0, G_OPTION_ARG_STRING, &action,
             "Only events of ACTION (host.add), or of a family (host.*)", "ACTION"},
            {"object", 0, 0, G_OPTION_ARG_STRING, &object,
             "Only events whose object contains TEXT (a VM's id or name)", "TEXT"},
            {"follow", 'f', 0, G_OPTION_ARG_NONE, &follow,
             "Keep printing new events as they are written (until interrupted)", NULL},
            {"limit", 'n', 0, G_OPTION_ARG_INT, &limit, "Stop after N events", "N"},
            {"wait", 0, 0, G_OPTION_ARG_INT, &wait,
             "--follow: seconds each long poll waits (1..300, default 60)", "S"},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "",
            "The engine's audit log: every change and every refused action, with who (the "
            "token's name), what, the object, the result and the message.",
            "Examples:\n  hostdev-engine events --host node1\n  hostdev-engine events --vm gpu-vm\n"
            "  hostdev-engine events --follow --since 120 --action 'vm.*'\n\n"
            "--json prints the API's EventList {events, last_id}; with --follow, one Event "
            "object per line as it comes.",
            entries);
        g_autoptr(GError) error = NULL;
        g_autofree char *host_id = NULL;
        g_autofree char *vm_id = NULL;
        g_autoptr(GString) filters = g_string_new("&");
        g_autoptr(JsonArray) all = json_array_new();
        HdClientTable *t = NULL;
        gint64 last = 0;
        guint printed = 0;

        if (!hd_client_parse(c, octx, &argc, &argv, 0, 0))
                return HD_CLIENT_EXIT_USAGE;
        if (since < 0 || limit < 0 || wait < 1 || wait > 300)
                return hd_client_usage(c, "--since and --limit are not negative, --wait is 1..300");
        if (follow)
                c->timeout = (guint)wait + 30; /* the engine holds each poll up to --wait s */
        if (host && !(host_id = hd_client_resolve(c, "hosts", host, &error)))
                return hd_client_fail(c, error);
        if (vm && !(vm_id = hd_client_resolve(c, "vms", vm, &error)))
                return hd_client_fail(c, error);
        /* "&NAME=VALUE..." after the query's since and limit */
        hd_client_add_query(filters,
                            (const char *const[]){"host_id", host_id, "vm_id", vm_id, "action",
                                                  action, "object", object, NULL, NULL});
        g_string_truncate(filters, filters->len - 1);
        if (!c->json && !follow)
                t = hd_client_table_new(7, (const char *const[]){"ID", "AT", "ACTOR", "ACTION",
                                                                 "OBJECT", "RESULT", "MESSAGE"});
        if (t)
                hd_client_table_set_shrink(t, 6); /* MESSAGE */
        last = since;
        for (;;) {
                guint page = limit > 0 ? MIN(1000u, (guint)limit - printed) : 1000;
                g_autofree char *pq =
                    g_strdup_printf("/v1/events?since=%" G_GINT64_FORMAT "&limit=%u%s%s", last,
                                    page, filters->str, follow ? "&wait=" : "");
                g_autofree char *full = follow ? g_strdup_printf("%s%d", pq, wait) : NULL;
                g_autoptr(JsonNode) answer = NULL;
                JsonObject *o;
                JsonArray *events;

                if (!hd_client_call(c, "GET", full ? full : pq, NULL, &answer, &error)) {
                        if (t)
                                hd_client_table_print_free(t);
                        return hd_client_fail(c, error);
                }
                o = answer && JSON_NODE_HOLDS_OBJECT(answer) ? json_node_get_object(answer) : NULL;
                if (!o || !json_object_has_member(o, "events")) {
                        g_set_error(&error, HD_CLIENT_ERROR, HD_CLIENT_EXIT_FAILED,
                                    "GET /v1/events: the answer is not an EventList");
                        if (t)
                                hd_client_table_print_free(t);
                        return hd_client_fail(c, error);
                }
                events = json_object_get_array_member(o, "events");
                for (guint i = 0; i < json_array_get_length(events); i++) {
                        JsonNode *en = json_array_get_element(events, i);
                        JsonObject *e = json_node_get_object(en);
                        g_autofree char *id = hd_client_int_text(e, "id");
                        g_autofree char *message = NULL;

                        last = json_object_get_int_member(e, "id");
                        printed++;
                        if (follow && c->json) {
                                print_json_line(en);
                        } else if (follow) {
                                print_line(e);
                        } else if (c->json) {
                                json_array_add_element(all, json_node_copy(en));
                        } else {
                                message = g_strdup(hd_client_str(e, "message"));
                                hd_client_table_add(
                                    t, (const char *const[]){
                                           id, hd_client_str(e, "at"), hd_client_str(e, "actor"),
                                           hd_client_str(e, "action"), hd_client_str(e, "object"),
                                           hd_client_str(e, "result"), message});
                        }
                }
                if (json_object_has_member(o, "last_id"))
                        last = MAX(last, json_object_get_int_member(o, "last_id"));
                fflush(stdout);
                if (limit > 0 && printed >= (guint)limit)
                        break;
                if (!follow && json_array_get_length(events) < page)
                        break;
        }
        if (t) {
                hd_client_table_print_free(t);
        } else if (c->json && !follow) {
                g_autoptr(JsonBuilder) b = json_builder_new();
                g_autoptr(JsonNode) n = NULL;

                json_builder_begin_object(b);
                json_builder_set_member_name(b, "events");
                json_builder_add_value(b, json_node_init_array(json_node_alloc(), all));
                json_builder_set_member_name(b, "last_id");
                json_builder_add_int_value(b, last);
                json_builder_end_object(b);
                n = json_builder_get_root(b);
                hd_client_print_json(n);
        }
        return HD_CLIENT_EXIT_OK;
}
