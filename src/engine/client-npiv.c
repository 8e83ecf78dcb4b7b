/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdev-engine's NPIV commands (client.h), as the API has them
 * (docs/api/engine-openapi.yaml):
 *   hosts npiv HOST                        GET /v1/hosts/{id}/npiv (read from the agent now)
 *   hosts npiv-create HOST PARENT [--wwpn W] [--wwnn W] [--no-persist]
 *                                          POST /v1/hosts/{id}/npiv (WWNs left out: the engine
 *                                          generates fleet-unique ones)
 *   hosts npiv-delete HOST WWPN [--force]  POST /v1/hosts/{id}/npiv/{wwpn}/delete
 * --json prints the API's documents.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "client.h"

int hd_client_hosts_npiv(HdClient *c, int argc, char **argv)
{
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "HOST",
            "The host's Fibre Channel hosts (vports in use of the most they take) and NPIV vports "
            "with their WWPN and WWNN, read from its agent now; ENGINE says whether the engine "
            "assigned the vport's WWNs (they are unique across the fleet).",
            "Example:\n  hostdev-engine hosts npiv srv1\n\n"
            "--json prints the API's HostNpiv {host_id, fc_hosts, vports, recorded}.",
            NULL);
        g_autoptr(JsonNode) answer = NULL;
        JsonArray *hosts = NULL, *vports;
        HdClientTable *t;
        int rc = 0;

        if (!hd_client_host_read(c, octx, argc, argv, "npiv", "fc_hosts", &answer, &hosts, &rc))
                return rc;
        t = hd_client_table_new(
            5, (const char *const[]){"FC HOST", "PORT NAME", "STATE", "VPORTS", "KIND"});
        for (guint i = 0; hosts && i < json_array_get_length(hosts); i++) {
                JsonObject *h = json_array_get_object_element(hosts, i);
                g_autofree char *inuse = hd_client_int_text(h, "npiv_vports_inuse");
                g_autofree char *max = hd_client_int_text(h, "max_npiv_vports");
                g_autofree char *vp = g_strdup_printf("%s/%s", inuse, max);
                g_autofree char *kind =
                    hd_client_str(h, "vport")
                        ? g_strdup_printf("vHBA of %s (%s)", hd_client_str(h, "parent"),
                                          hd_client_str(h, "vport"))
                        : g_strdup(strcmp(hd_client_bool_text(h, "vport_create", "y", "n"), "y") ==
                                           0
                                       ? "can create vports"
                                       : "no NPIV");
                hd_client_table_add(
                    t, (const char *const[]){hd_client_str(h, "host"),
                                             hd_client_str(h, "port_name")
                                                 ? hd_client_str(h, "port_name")
                                                 : "-",
                                             hd_client_str(h, "port_state")
                                                 ? hd_client_str(h, "port_state")
                                                 : "-",
                                             vp, kind});
        }
        hd_client_table_print_free(t);
        vports = json_object_get_array_member(json_node_get_object(answer), "vports");
        if (!vports || json_array_get_length(vports) == 0) {
                printf("\nno vports\n");
                return HD_CLIENT_EXIT_OK;
        }
        printf("\n");
        t = hd_client_table_new(
            6, (const char *const[]){"VPORT", "PARENT", "WWPN", "WWNN", "STATE", "ENGINE"});
        for (guint i = 0; i < json_array_get_length(vports); i++) {
                JsonObject *v = json_array_get_object_element(vports, i);
#define OR_DASH(name) (hd_client_str(v, name) ? hd_client_str(v, name) : "-")
                hd_client_table_add(
                    t, (const char *const[]){OR_DASH("name"), OR_DASH("parent"),
                                             OR_DASH("port_name"), OR_DASH("node_name"),
                                             OR_DASH("vport_state"),
                                             hd_client_bool_text(v, "engine_assigned", "yes",
                                                                 "no")});
#undef OR_DASH
        }
        hd_client_table_print_free(t);
        return HD_CLIENT_EXIT_OK;
}

int hd_client_hosts_npiv_create(HdClient *c, int argc, char **argv)
{
        g_autofree char *wwpn = NULL, *wwnn = NULL;
        gboolean no_persist = FALSE;
        const GOptionEntry entries[] = {
            {"wwpn", 0, 0, G_OPTION_ARG_STRING, &wwpn,
             "The vport's port name (16 hex digits, e.g. 0x2001001122334455); refused when a "
             "port in the fleet has it. Left out: generated, unique across the fleet",
             "WWN"},
            {"wwnn", 0, 0, G_OPTION_ARG_STRING, &wwnn, "The vport's node name (as --wwpn)",
             "WWN"},
            {"no-persist", 0, 0, G_OPTION_ARG_NONE, &no_persist,
             "Do not record the vport on the host: it is gone after a reboot", NULL},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "HOST PARENT [--wwpn W] [--wwnn W] [--no-persist]",
            "Create an NPIV vport (a virtual HBA) on the FC host PARENT (\"host3\" or 3) of HOST. "
            "WWNs left out are generated by the engine, unique across the fleet; WWNs given are "
            "refused when any host has them. The vport is recorded on the host and made again "
            "at boot unless --no-persist.",
            "Examples:\n  hostdev-engine hosts npiv-create srv1 host1\n"
            "  hostdev-engine hosts npiv-create srv1 host1 --wwpn 0x2001001122334477 "
            "--wwnn 0x2000001122334477\n\n"
            "--json prints the API's HostNpivCreateResult.",
            entries);
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) body = NULL;
        g_autoptr(JsonNode) answer = NULL;
        g_autofree char *id = NULL;
        JsonObject *o;
        JsonNode *vn;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "hosts", octx, &argc, &argv, 1, 1, &rc)))
                return rc;
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "parent");
        json_builder_add_string_value(b, argv[2]);
        if (wwpn) {
                json_builder_set_member_name(b, "wwpn");
                json_builder_add_string_value(b, wwpn);
        }
        if (wwnn) {
                json_builder_set_member_name(b, "wwnn");
                json_builder_add_string_value(b, wwnn);
        }
        json_builder_set_member_name(b, "persist");
        json_builder_add_boolean_value(b, !no_persist);
        json_builder_end_object(b);
        body = json_builder_get_root(b);
        if ((rc = hd_client_request(c, "POST", "hosts", id, "npiv", body, &answer)))
                return rc;
        if (c->json) {
                hd_client_print_json(answer);
                return HD_CLIENT_EXIT_OK;
        }
        o = json_node_get_object(answer);
        vn = json_object_get_member(o, "vport");
        printf("vport %s on %s of host %s: WWPN %s, WWNN %s%s\n",
               vn && JSON_NODE_HOLDS_OBJECT(vn) && hd_client_str(json_node_get_object(vn), "name")
                   ? hd_client_str(json_node_get_object(vn), "name")
                   : "(not shown yet)",
               argv[2], argv[1], hd_client_str(o, "wwpn"), hd_client_str(o, "wwnn"),
               no_persist ? " (gone after a reboot)" : ", made again at boot");
        return HD_CLIENT_EXIT_OK;
}

int hd_client_hosts_npiv_delete(HdClient *c, int argc, char **argv)
{
        gboolean force = FALSE;
        const GOptionEntry entries[] = {
            {"force", 0, 0, G_OPTION_ARG_NONE, &force,
             "Delete it although a LUN on its vHBA is used by the host or held open", NULL},
            {NULL},
        };
        g_autoptr(GOptionContext) octx = hd_client_options(
            c, "HOST WWPN [--force]",
            "Delete the NPIV vport with port name WWPN on HOST (and its record there); the "
            "engine's WWNs of it are free again for the fleet.",
            "Example:\n  hostdev-engine hosts npiv-delete srv1 0x5001a4a0c3d2e1f0\n\n"
            "--json prints the API's HostNpivDeleteResult.",
            entries);
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) body = NULL;
        g_autoptr(JsonNode) answer = NULL;
        g_autofree char *id = NULL;
        g_autofree char *tail = NULL;
        g_autofree char *esc = NULL;
        JsonObject *o;
        int rc = 0;

        if (!(id = hd_client_start_on(c, "hosts", octx, &argc, &argv, 1, 1, &rc)))
                return rc;
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "force");
        json_builder_add_boolean_value(b, force);
        json_builder_end_object(b);
        body = json_builder_get_root(b);
        esc = g_uri_escape_string(argv[2], ":", FALSE); /* 20:01:...: colons stay */
        tail = g_strconcat("npiv/", esc, "/delete", NULL);
        if ((rc = hd_client_request(c, "POST", "hosts", id, tail, body, &answer)))
                return rc;
        if (c->json) {
                hd_client_print_json(answer);
                return HD_CLIENT_EXIT_OK;
        }
        o = json_node_get_object(answer);
        if (strcmp(hd_client_bool_text(o, "deleted", "y", "n"), "y") == 0)
                printf("vport %s deleted on host %s%s\n", hd_client_str(o, "wwpn"), argv[1],
                       strcmp(hd_client_bool_text(o, "released", "y", "n"), "y") == 0
                           ? "; its WWNs are free for the fleet"
                           : "");
        else
                printf("host %s has no vport %s any more; the engine released its WWNs\n",
                       argv[1], hd_client_str(o, "wwpn"));
        return HD_CLIENT_EXIT_OK;
}
