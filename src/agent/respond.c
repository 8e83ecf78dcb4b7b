/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Answers of the API handlers over the HTTP layer (http.h): JSON bodies, errors as
 * {"error":{"code","message"}} with the CLI's codes, HD_ERROR codes to HTTP statuses, 405 with
 * Allow, and request bodies as JSON objects (request.h). The api-*.c files use these and
 * http.h, never server.c, which only routes to them.
 */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "agent.h"

/* ---- responses ---------------------------------------------------------------------------- */

void hd_respond_json(HdHttpRequest *msg, guint status, const char *json)
{
        hd_http_respond_text(msg, status, "application/json", json);
}

void hd_respond_builder(HdHttpRequest *msg, guint status, JsonBuilder *b)
{
        hd_http_respond_take(msg, status, "application/json", hd_json_to_string(b, FALSE));
}

void hd_respond_error(HdHttpRequest *msg, guint status, const char *code, const char *format, ...)
{
        g_autofree char *message = NULL;
        va_list ap;

        va_start(ap, format);
        message = g_strdup_vprintf(format, ap);
        va_end(ap);
        hd_http_respond_error(msg, status, code, "%s", message);
}

/* hd-error.h: INVALID_ARGUMENT 400, NOT_FOUND 404, REFUSED/BUSY 409, the rest 500. */
guint hd_http_status_for_error(const GError *error)
{
        if (error->domain == HD_AGENT_ERROR)
                return HD_HTTP_CONFLICT;
        if (error->domain != HD_ERROR)
                return HD_HTTP_INTERNAL_SERVER_ERROR;
        switch ((HdError)error->code) {
        case HD_ERROR_INVALID_ARGUMENT:
                return HD_HTTP_BAD_REQUEST;
        case HD_ERROR_NOT_FOUND:
                return HD_HTTP_NOT_FOUND;
        case HD_ERROR_REFUSED:
        case HD_ERROR_BUSY:
                return HD_HTTP_CONFLICT;
        case HD_ERROR_NOT_SUPPORTED:
        case HD_ERROR_NOT_SYSFS:
        case HD_ERROR_FAILED:
                break;
        }
        return HD_HTTP_INTERNAL_SERVER_ERROR;
}

G_DEFINE_QUARK(hd-agent-error-quark, hd_agent_error)

const char *hd_respond_code_name(const GError *error)
{
        if (error->domain == HD_AGENT_ERROR)
                return error->code == HD_AGENT_ERROR_DEVICE_ABSENT ? "device-absent" : "in-use";
        return hd_error_code_name(error);
}

void hd_respond_gerror(HdHttpRequest *msg, const GError *error)
{
        hd_respond_gerror_holder(msg, error, NULL);
}

void hd_respond_gerror_holder(HdHttpRequest *msg, const GError *error, const char *holder)
{
        g_autoptr(JsonBuilder) b = NULL;

        if (!holder || !g_error_matches(error, HD_AGENT_ERROR, HD_AGENT_ERROR_IN_USE)) {
                hd_http_respond_error(msg, hd_http_status_for_error(error),
                                      hd_respond_code_name(error), "%s", error->message);
                return;
        }
        b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "error");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "code");
        json_builder_add_string_value(b, hd_respond_code_name(error));
        json_builder_set_member_name(b, "message");
        json_builder_add_string_value(b, error->message);
        json_builder_set_member_name(b, "holder");
        json_builder_add_string_value(b, holder);
        json_builder_end_object(b);
        json_builder_set_member_name(b, "holder");
        json_builder_add_string_value(b, holder);
        json_builder_end_object(b);
        hd_respond_builder(msg, HD_HTTP_CONFLICT, b);
}

void hd_respond_bad_method(HdHttpRequest *msg, const char *allow)
{
        hd_http_request_set_header(msg, "Allow", allow);
        hd_respond_error(msg, HD_HTTP_METHOD_NOT_ALLOWED, "method-not-allowed",
                         "%s is not allowed here; use %s", hd_http_request_get_method(msg), allow);
}

/* ---- request bodies ----------------------------------------------------------------------- */

JsonObject *hd_request_json_object(HdRequest *req)
{
        g_autoptr(GError) error = NULL;
        gsize len = 0;
        const char *data = hd_http_request_get_body(req->msg, &len);
        JsonObject *o;

        /* the HTTP layer refused more already (http.h); this keeps the promise local */
        if (len > HD_AGENT_MAX_BODY) {
                hd_respond_error(req->msg, HD_HTTP_PAYLOAD_TOO_LARGE, "too-large",
                                 "the request body has %" G_GSIZE_FORMAT " bytes; the limit is "
                                 "%d",
                                 len, HD_AGENT_MAX_BODY);
                return NULL;
        }
        o = hd_body_parse(data, len, &error);
        if (!o)
                hd_respond_gerror(req->msg, error);
        return o;
}
