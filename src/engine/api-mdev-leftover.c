/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Removing the mdev leftovers of a host (store.h, "mdev leftovers"): mdevs the engine created
 * for a VM that was deleted, or that lost the mdev, while the mdev's removal on the host had
 * failed (after the VM's stop: the agent could not be reached, or refused 409 because a
 * process still held the mdev open).
 *
 * Why the engine keeps a record and retries instead of refusing the delete: an oVirt admin
 * deletes a VM that is down and expects it gone, also when its host is unreachable or being
 * repaired (oVirt removes a VM of a non-responsive host and cleans the host when it comes
 * back); refusing would leave an undeletable VM for a problem that is the host's, not the
 * VM's. What must not happen is the mdev staying on the host with nobody knowing: it takes
 * the parent's shared capacity for good. So the VM goes, the mdev becomes a leftover listed
 * with the host's capacity (GET /v1/hosts/{id}/mdev "leftovers", with the last failure), and
 * the engine removes it right away, again at the syncs of that host (a long poll's new
 * generation, a reconnect, POST /v1/hosts/{id}/refresh) and every HD_ENGINE_MDEV_LEFTOVER_SECONDS
 * while the host is up or in maintenance (a process letting go of an mdev moves nothing the sync
 * would see), until the agent removed it or answers that it has no such mdev. A leftover is tried
 * at most every HD_ENGINE_MDEV_LEFTOVER_SECONDS but right after the delete: a refusal moves the
 * agent's generation (it does not know what a failure left), which wakes the sync, which would
 * otherwise try again at once, and again. Audit rows "host.mdev.leftover": failed when the reason
 * changes (not at every try), ok when it is gone.
 */
#include "config.h"

#include <string.h>

#include "api.h"
#include "vms.h"

typedef struct {
        HdEngine *e;
        char *host_id;
        char *uuid;
        char *object;
        char *last_error; /* the previous try's */
} Removal;

static void removal_free(Removal *r)
{
        g_free(r->last_error);
        g_free(r->host_id);
        g_free(r->uuid);
        g_free(r->object);
        g_free(r);
}

static void on_removed(guint status, GBytes *body, const GError *error, gpointer data)
{
        Removal *r = data;
        g_autoptr(GError) local = NULL;
        g_autofree char *message = NULL;
        gboolean gone = status == 200 || status == 404;

        if (error && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                return removal_free(r); /* the engine stops: the next one retries */
        if (!gone) {
                g_autofree char *agent = error ? NULL : hd_api_agent_error_member(body, "message");
                message = error ? g_strdup_printf("the agent cannot be reached: %s", error->message)
                          : agent ? g_strdup_printf("the agent answered %u: %s", status, agent)
                                  : g_strdup_printf("the agent answered HTTP %u", status);
        }
        if (!hd_store_mdev_leftover_done(r->e->store, r->uuid, message, gone, &local)) {
                /* removed meanwhile by an earlier try's answer: nothing to say */
                if (!g_error_matches(local, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND))
                        hd_engine_log(r->e, "warning", "%s: %s", r->object, local->message);
                return removal_free(r);
        }
        if (gone)
                hd_engine_event(r->e, "engine", "host.mdev.leftover", r->object, "ok",
                                status == 200 ? "removed from the host"
                                              : "the host no longer has it");
        else if (g_strcmp0(message, r->last_error) != 0)
                hd_engine_event(r->e, "engine", "host.mdev.leftover", r->object, "failed", message);
        removal_free(r);
}

void hd_engine_mdev_leftovers_retry(HdEngine *e, const char *host_id, gboolean now)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) leftovers = hd_store_mdev_leftovers_due(
            e->store, host_id, now ? 0 : HD_ENGINE_MDEV_LEFTOVER_SECONDS, &error);

        if (!leftovers) {
                if (!g_error_matches(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND))
                        hd_engine_log(e, "warning", "host %s: %s", host_id, error->message);
                return;
        }
        for (guint i = 0; i < leftovers->len; i++) {
                const HdMdevLeftover *l = leftovers->pdata[i];
                g_autofree char *path = g_strconcat("/v1/mdev/", l->uuid, "/remove", NULL);
                Removal *r = g_new0(Removal, 1);

                r->e = e;
                r->host_id = g_strdup(host_id);
                r->uuid = g_strdup(l->uuid);
                r->last_error = g_strdup(l->last_error);
                r->object = g_strdup_printf("host %s mdev %s (%s on %s, of deleted VM %s)", host_id,
                                            l->uuid, l->type, l->parent, l->vm_name);
                hd_sync_agent_call(e->sync, host_id, "POST", path, "{}", on_removed, r);
        }
}

gboolean hd_engine_mdev_leftovers_tick(gpointer data)
{
        HdEngine *e = data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) hosts = hd_store_mdev_leftover_hosts(e->store, &error);

        if (!hosts)
                hd_engine_log(e, "warning", "mdev leftovers: %s", error->message);
        for (guint i = 0; hosts && i < hosts->len; i++)
                hd_engine_mdev_leftovers_retry(e, hosts->pdata[i], FALSE);
        return G_SOURCE_CONTINUE;
}
