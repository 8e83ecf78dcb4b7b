/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the engine API's files share (api.c: server, authentication, routing, these helpers;
 * api-<resource>.c: one file per resource). Nothing outside api*.c includes it.
 *
 * A handler answers exactly once: a hd_api_respond_* / hd_http_respond_* call, or
 * hd_http_request_suspend() and an answer later from the main loop (long polls, calls that
 * wait for an agent). Every change and every refusal of an authenticated caller writes one
 * audit row (hd_engine_event, or hd_api_refuse which answers and writes it).
 */
#pragma once

#include "engine.h"

/* The caller's token name ("anonymous" before authentication) and role. */
const char *hd_api_caller(HdHttpRequest *req);
gboolean hd_api_caller_is_admin(HdHttpRequest *req);

/* ---- answers ---- */
void hd_api_respond_builder(HdHttpRequest *req, guint status, JsonBuilder *b);
/* 405 with Allow: @allow. */
void hd_api_bad_method(HdHttpRequest *req, const char *allow);
/* The HTTP status and stable code of a store error (404 not-found, 409 exists / refused /
 * in-use,
 * 400 invalid-argument for G_IO_ERROR_INVALID_ARGUMENT, else 500 failed). */
guint hd_api_error_status(const GError *error, const char **code);
void hd_api_respond_gerror(HdHttpRequest *req, const GError *error);
/* Answer a failed change and write its audit row ("refused" for 4xx, "failed" for 5xx). */
void hd_api_refuse(HdEngine *e, HdHttpRequest *req, const char *action, const char *object,
                   const GError *error);

/* ---- query parameters ---- */
/* FALSE (answered 400) when a parameter is not in @allowed (NULL: none allowed). */
gboolean hd_api_check_query(HdHttpRequest *req, const char *const *allowed);
const char *hd_api_query(HdHttpRequest *req, const char *name);
/* @out keeps its value when the parameter is absent; FALSE (answered 400) when it is not a
 * whole number in [min, max]. */
gboolean hd_api_query_uint(HdHttpRequest *req, const char *name, guint64 min, guint64 max,
                           guint64 *out);

/* ---- JSON members ---- */
/* A string member, null for NULL. */
void hd_api_add_string(JsonBuilder *b, const char *name, const char *value);
/* A member holding the JSON array text @json as a value, null for NULL. */
void hd_api_add_json_array(JsonBuilder *b, const char *name, const char *json);

/* ---- request bodies ---- */
/* The body as one JSON object (hd_engine_body_parse), or NULL after answering 400/413 with
 * the audit row for @action on @object. */
JsonObject *hd_api_body_object(HdEngine *e, HdHttpRequest *req, const char *action,
                               const char *object);

/* An empty body or {} (for calls that take no members); FALSE after answering 400/413 with
 * the audit row, the message "@name takes no members; send {} or no body". */
gboolean hd_api_no_members(HdEngine *e, HdHttpRequest *req, const char *action, const char *object,
                           const char *name);
/* "changed: NAME..." with the body's member names, for an edit's audit row. */
char *hd_api_changed_members(JsonObject *o);

/* ---- lists ---- */
/* Answer 200 {@member: [@add(b, item) for each of @items], total, limit, offset}. */
typedef void (*HdApiAddFunc)(JsonBuilder *b, gconstpointer item);
void hd_api_respond_page(HdHttpRequest *req, const char *member, GPtrArray *items, HdApiAddFunc add,
                         guint total, guint64 limit, guint64 offset);

/* ---- agent answers ---- */
/* The top-level object of the agent's answer @body, parsed by @parser (which owns it: keep it
 * while the object is used), or NULL when @body is none or not a JSON object. */
JsonObject *hd_api_agent_answer_object(GBytes *body, JsonParser *parser);
/* The string member @name ("code", "message") of the agent's error document
 * {"error": {"code", "message"}} in @body (newly allocated), or NULL when it holds none. */
char *hd_api_agent_error_member(GBytes *body, const char *name);

/* ---- collection ETags (api-etag.c) ---- */
/* Set the answer's ETag to the store's for @scope (hd_store_etag); TRUE when the request's
 * If-None-Match holds it (or is "*"): then answered 304 with no body. TRUE also after
 * answering an error (404 for an unknown host): the caller returns in both cases. */
gboolean hd_api_not_modified(HdEngine *e, HdHttpRequest *req, HdEtagScope scope,
                             const char *host_id);

/* ---- resources ---- */
/* /v1/hosts... (@seg: the path's segments after /v1/, @n of them, 1..3 or 5) */
void hd_api_route_hosts(HdEngine *e, HdHttpRequest *req, char **seg, guint n);
/* /v1/vms... (api-vms.c; @n 1..4) */
void hd_api_route_vms(HdEngine *e, HdHttpRequest *req, char **seg, guint n);
/* A host as the API shows it (never its agent token); the host @id read from the store and
 * answered with @status (404 when it is gone). */
void hd_api_add_host(JsonBuilder *b, const HdHost *h);
void hd_api_respond_host(HdEngine *e, HdHttpRequest *req, guint status, const char *id);
/* /v1/hosts/{id}/{maintenance,reboot,activate,kernel-args} (api-hostlife.c): FALSE when
 * @what is none of them. */
gboolean hd_api_route_hostlife(HdEngine *e, HdHttpRequest *req, const char *id, const char *what);
/* GET /v1/hosts/{id}/usb, /scsi and /vhost-scsi (api-host-usbscsi.c, @what "usb", "scsi" or
 * "vhost-scsi"): the agent's answer read now, with the host's id. */
void hd_api_host_usbscsi(HdEngine *e, HdHttpRequest *req, const char *id, const char *what);
/* /v1/hosts/{id}/devices/{address}/{sriov,vf-net} (api-sriov.c): FALSE when @what is
 * neither. */
gboolean hd_api_route_sriov(HdEngine *e, HdHttpRequest *req, const char *host_id,
                            const char *address, const char *what);
/* /v1/hosts/{id}/npiv (@n 3) and /v1/hosts/{id}/npiv/{wwpn}/delete (@n 5) (api-npiv.c) */
void hd_api_route_npiv(HdEngine *e, HdHttpRequest *req, char **seg, guint n);
/* GET /v1/events */
void hd_api_list_events(HdEngine *e, HdHttpRequest *req);
/* Answer every suspended GET /v1/events (an event was written, or the engine stops). */
void hd_api_events_wake(HdEngine *e);
