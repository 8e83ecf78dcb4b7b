/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine API's audit log: GET /v1/events, a long poll when nothing is newer
 * (docs/api/engine-openapi.yaml). Routed from api.c; the helpers are in api.h.
 */
#include "config.h"

#include <string.h>

#include "api.h"

/* Answer @req with the events after @since (at most @limit); the number answered. */
static guint answer_events(HdEngine *e, HdHttpRequest *req, gint64 since, guint limit)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) events = hd_store_events_list(e->store, since, limit, &error);
        g_autoptr(JsonBuilder) b = json_builder_new();
        gint64 last = since;

        if (!events) {
                hd_api_respond_gerror(req, error);
                return 0;
        }
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "events");
        json_builder_begin_array(b);
        for (guint i = 0; i < events->len; i++) {
                const HdEvent *ev = events->pdata[i];
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "id");
                json_builder_add_int_value(b, ev->id);
                hd_api_add_string(b, "at", ev->at);
                hd_api_add_string(b, "actor", ev->actor);
                hd_api_add_string(b, "action", ev->action);
                hd_api_add_string(b, "object", ev->object);
                hd_api_add_string(b, "result", ev->result);
                hd_api_add_string(b, "message", ev->message);
                json_builder_end_object(b);
                last = ev->id;
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "last_id");
        json_builder_add_int_value(b, last);
        json_builder_end_object(b);
        hd_api_respond_builder(req, HD_HTTP_OK, b);
        return events->len;
}

/* A long poll on the audit log (the portal's way to follow changes without polling). A
 * suspended request is not watched by the HTTP layer: a caller that goes away is noticed when
 * the wait ends (at most 300 s). Events written by another process (hostdev-engine token ...)
 * are seen at the end of the wait. */
typedef struct {
        HdEngine *e;
        HdHttpRequest *req;
        gint64 since;
        guint limit;
        guint timeout_id;
} EventWaiter;

static void event_waiter_answer(EventWaiter *w)
{
        w->e->event_waiters = g_list_remove(w->e->event_waiters, w);
        g_clear_handle_id(&w->timeout_id, g_source_remove);
        answer_events(w->e, w->req, w->since, w->limit);
        hd_http_request_resume(w->req);
        hd_http_request_unref(w->req);
        g_free(w);
}

static gboolean event_waiter_timeout(gpointer data)
{
        EventWaiter *w = data;

        w->timeout_id = 0;
        event_waiter_answer(w);
        return G_SOURCE_REMOVE;
}

/* An event was written: every waiter gets it (they all wait for id > since <= the new id). */
void hd_api_events_wake(HdEngine *e)
{
        while (e->event_waiters)
                event_waiter_answer(e->event_waiters->data);
}

void hd_api_list_events(HdEngine *e, HdHttpRequest *req)
{
        static const char *const params[] = {"since", "limit", "wait", "tail", NULL};
        guint64 since = 0, limit = 100, wait = 0, tail = 0;
        EventWaiter *w;

        if (!hd_api_check_query(req, params) ||
            !hd_api_query_uint(req, "since", 0, G_MAXINT64, &since) ||
            !hd_api_query_uint(req, "limit", 1, 1000, &limit) ||
            !hd_api_query_uint(req, "wait", 0, 300, &wait) ||
            !hd_api_query_uint(req, "tail", 1, 1000, &tail))
                return;
        if (tail) { /* the newest events (the portal's first page): ids are dense (store.h 4) */
                g_autoptr(GError) error = NULL;
                gint64 last = hd_store_events_last_id(e->store, &error);
                if (last < 0)
                        return hd_api_respond_gerror(req, error);
                if (hd_api_query(req, "since") || hd_api_query(req, "wait"))
                        return hd_http_respond_error(req, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                                     "tail=N answers the newest N events; it "
                                                     "takes neither since nor wait");
                answer_events(e, req, MAX(last - (gint64)tail, 0), (guint)tail);
                return;
        }
        if (answer_events(e, req, (gint64)since, (guint)limit) > 0 || wait == 0 ||
            hd_http_request_get_status(req) != HD_HTTP_OK)
                return;
        /* nothing new yet: wait for the next event or the end of the wait */
        w = g_new0(EventWaiter, 1);
        w->e = e;
        w->req = hd_http_request_ref(req);
        w->since = (gint64)since;
        w->limit = (guint)limit;
        w->timeout_id = g_timeout_add_seconds((guint)wait, event_waiter_timeout, w);
        e->event_waiters = g_list_prepend(e->event_waiters, w);
        hd_http_request_suspend(req); /* drops the empty answer given above */
}
