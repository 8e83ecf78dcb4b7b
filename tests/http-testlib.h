/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the tests that talk HTTP share (test-agent.c against hostdevd, the engine's tests
 * through engine-testlib.c, test-engine-web.c): the record of every answer they get, for
 * tools/api/check-answers.mjs, which checks each against the API document, and the sending of
 * one request.
 */
#pragma once

#include <libsoup/soup.h>

/* Send @msg through @session (with "Authorization: Bearer @token" and the JSON @body, each when
 * not NULL) and read the whole answer; its body as text, "" when empty. Asserts that an answer
 * came. */
char *hd_ht_send(SoupSession *session, SoupMessage *msg, const char *token, const char *body);

/* With the environment variable @env_dir set to a directory (HOSTDEV_API_ANSWERS for the
 * agent, HOSTDEV_ENGINE_API_ANSWERS for the engine), write one answer there as
 * PREFIX-PID-SERIAL.json ("answer", "answer-web"): {test, method, path, status, content_type
 * (null for NULL), body_utf8, body}. A body that is not UTF-8 is written made valid
 * (U+FFFD) with @make_valid, else as ""; body_utf8 is false in both cases. */
void hd_ht_record_answer(const char *env_dir, const char *prefix, const char *method,
                         const char *path, guint status, const char *content_type, const char *body,
                         gboolean make_valid);
