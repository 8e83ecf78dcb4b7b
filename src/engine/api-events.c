/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine API's audit log: GET /v1/events, a long poll when nothing is newer
 * (docs/api/engine-openapi.yaml). Routed from api.c; the helpers are in api.h.
 */
#include "config.h"

#include <string.h>

#include "api.h"

/* The filters of a request (strings owned by the request's query table). */
typedef struct {
        HdEventFilter f;
        gboolean etag;       /* answer 304 for a matching If-None-Match */
        gint64 last_at_least; /* last_id is at least this (tail: the log's last id, so that a
                               * filtered follow-up starts after it, not at an old match) */
} EventQuery;

/* Answer @req with the events of @q (at most its limit); the number answered (0 also after a
 * 304 or an error). */
static guint answer_events(HdEngine *e, HdHttpRequest *req, const EventQuery *q)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) events = NULL;
        g_autoptr(JsonBuilder) b = json_builder_new();
        gint64 last = q->f.since;

        if (q->etag && hd_api_not_modified(e, req, HD_ETAG_EVENTS, NULL))
                return 0;
        events = hd_store_events_query(e->store, &q->f, &error);
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
        json_builder_add_int_value(b, MAX(last, q->last_at_least));
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
        EventQuery q;
        guint timeout_id;
} EventWaiter;

static void event_waiter_answer(EventWaiter *w)
{
        w->e->event_waiters = g_list_remove(w->e->event_waiters, w);
        g_clear_handle_id(&w->timeout_id, g_source_remove);
        answer_events(w->e, w->req, &w->q);
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

/* Whether the waiter's filters select an event now. */
static gboolean event_waiter_has_news(EventWaiter *w)
{
        EventQuery one = w->q;
        g_autoptr(GPtrArray) events = NULL;

        one.f.limit = 1;
        events = hd_store_events_query(w->e->store, &one.f, NULL);
        return !events || events->len > 0; /* an error is answered */
}

/* An event was written: every waiter whose filters select it gets it (the others go on
 * waiting); when the engine stops (its loop is no longer running), every waiter is answered. */
void hd_api_events_wake(HdEngine *e)
{
        gboolean stopping = !e->loop || !g_main_loop_is_running(e->loop);
        GList *l = e->event_waiters;

        while (l) {
                GList *next = l->next;
                if (stopping || event_waiter_has_news(l->data))
                        event_waiter_answer(l->data); /* removes l from the list */
                l = next;
        }
}

void hd_api_list_events(HdEngine *e, HdHttpRequest *req)
{
        static const char *const params[] = {"since", "limit",  "wait",   "host_id",
                                             "vm_id", "action", "object", "tail",   NULL};
        guint64 since = 0, limit = 100, wait = 0, tail = 0;
        EventQuery q = {.etag = TRUE};
        EventWaiter *w;

        if (!hd_api_check_query(req, params) ||
            !hd_api_query_uint(req, "since", 0, G_MAXINT64, &since) ||
            !hd_api_query_uint(req, "limit", 1, 1000, &limit) ||
            !hd_api_query_uint(req, "wait", 0, 300, &wait) ||
            !hd_api_query_uint(req, "tail", 1, 1000, &tail))
                return;
        q.f.since = (gint64)since;
        q.f.limit = (guint)limit;
        q.f.host_id = hd_api_query(req, "host_id");
        q.f.vm_id = hd_api_query(req, "vm_id");
        q.f.action = hd_api_query(req, "action");
        q.f.object = hd_api_query(req, "object");
        for (const char *const *p =
                 (const char *const[]){"host_id", "vm_id", "action", "object", NULL};
             *p; p++) {
                const char *v = hd_api_query(req, *p);
                if (v && (!*v || strlen(v) > 256))
                        return hd_http_respond_error(req, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                                     "%s: give 1 to 256 characters", *p);
        }
        if (tail) { /* the newest N events, filtered or not (the portal's first page) */
                if (hd_api_query(req, "since") || hd_api_query(req, "wait"))
                        return hd_http_respond_error(req, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                                     "tail=N answers the newest N events; it "
                                                     "takes no since or wait (the filters, yes)");
                g_autoptr(GError) error = NULL;
                q.last_at_least = hd_store_events_last_id(e->store, &error);
                if (q.last_at_least < 0)
                        return hd_api_respond_gerror(req, error);
                q.f.since = 0;
                q.f.limit = (guint)tail;
                q.f.newest = TRUE;
                answer_events(e, req, &q);
                return;
        }
        /* a long poll waits for the next event whatever the client holds: no 304 at once */
        q.etag = wait == 0;
        if (answer_events(e, req, &q) > 0 || wait == 0 ||
            hd_http_request_get_status(req) != HD_HTTP_OK)
                return;
        /* nothing new yet: wait for the next event or the end of the wait */
        w = g_new0(EventWaiter, 1);
        w->e = e;
        w->req = hd_http_request_ref(req);
        w->q = q;
        w->timeout_id = g_timeout_add_seconds((guint)wait, event_waiter_timeout, w);
        e->event_waiters = g_list_prepend(e->event_waiters, w);
        hd_http_request_suspend(req); /* drops the empty answer given above */
}
