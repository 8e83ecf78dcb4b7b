/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers of the engine's tests (test-engine*.c): real hostdevd agents on fixture roots (sim
 * backend, port 0, libvirt test:///default) and a real hostdev-engine on a temporary database,
 * each child killed with the test (PR_SET_PDEATHSIG); HTTP calls through one SoupSession
 * (hd_et_session, made by hd_et_init in the test's main); waits are bounded loops on the API
 * (states are asserted, never durations).
 *
 * With HOSTDEV_ENGINE_API_ANSWERS=DIR every answer of the engine is also written to
 * DIR/answer-PID-N.json for tools/api/check-answers.mjs --spec docs/api/engine-openapi.yaml
 * (calls on the agents' own paths are not recorded).
 */
#pragma once

#include <libsoup/soup.h>

#include "testlib.h"

typedef struct {
        GSubprocess *proc;
        char *url; /* without the trailing slash */
        char *log;
} HdEtProc;

typedef struct {
        guint status;
        char *body;
        char *location;
        char *etag; /* the answer's ETag header, or NULL */
        JsonNode *json;
} HdEtReply;

extern SoupSession *hd_et_session;
/* The start of a test program's main: g_test_init, SIGPIPE ignored (a child may die while
 * written to), hd_et_session (60 s a call). */
void hd_et_init(int *argc, char ***argv);
/* g_test_run(), then hd_et_session freed; the exit status. */
int hd_et_run(void);

void hd_et_reply_clear(HdEtReply *r);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HdEtReply, hd_et_reply_clear)
char *hd_et_file_text(const char *path);
/* Start @argv (stderr to @log); its first stdout line must be "listening URL". */
HdEtProc *hd_et_proc_start(const char *const *argv, const char *log);
/* Stop with @sig and wait (15 s at most); with SIGTERM the process must exit 0. */
void hd_et_proc_stop(HdEtProc *p, int sig);
/* hostdevd on @fx's root, sim backend, libvirt test:///default, --listen @listen. */
HdEtProc *hd_et_agent_start(HdTestFixture *fx, const char *listen);
/* The agent token hostdevd wrote under @fx's root. */
char *hd_et_agent_token(HdTestFixture *fx);
/* TRUE when the engines run on PostgreSQL (HOSTDEV_TEST_PG, tests/with-postgres.py). */
gboolean hd_et_pg(void);
/* hostdev-engine on DIR/engine.db (or, with HOSTDEV_TEST_PG, a fresh PostgreSQL database of
 * DIR's own), port 0, 5 s long polls, 1 s backoff cap, -v. */
HdEtProc *hd_et_engine_start(const char *dir);
/* The same with --replica @replica (its log DIR/engine-REPLICA.log): several on one DIR share
 * its database. */
HdEtProc *hd_et_engine_start_replica(const char *dir, const char *replica);
/* DIR's database: *@option "--db" and the SQLite file, or "--database" and the libpq
 * connection string of DIR's PostgreSQL database (created on first use). */
char *hd_et_engine_db(const char *dir, const char **option);
/* hostdev-engine --db DIR/engine.db ARGS... (or --database, as above); its exit status,
 * stdout in *@out. */
int hd_et_engine_cli(const char *dir, const char *const *args, char **out);
/* A new token (hostdev-engine token create), asserted 64 hex digits. */
char *hd_et_token_create(const char *dir, const char *name, const char *role);
void hd_et_record_answer(const char *method, const char *path, guint status,
                         const char *content_type, const char *body);
/* One HTTP call (JSON @body, bearer @token when not NULL), its answer recorded. */
HdEtReply hd_et_call(const char *base, const char *method, const char *path, const char *body,
                     const char *token);
/* hd_et_call with an If-Match header (not sent when NULL). */
HdEtReply hd_et_call_if_match(const char *base, const char *method, const char *path,
                              const char *body, const char *token, const char *if_match);
/* The answer as an object (the test fails when it is not one). */
JsonObject *hd_et_obj(const HdEtReply *r);
/* The answer is @status with the error document of @code and a message. */
void hd_et_assert_error(const HdEtReply *r, guint status, const char *code);
/* hd_et_assert_error, and the error's message holds @needle. */
void hd_et_assert_reason(const HdEtReply *r, guint status, const char *code, const char *needle);
/* POST /v1/hosts; the new id (asserted: 201, Location, no token in the answer). */
char *hd_et_add_host(const char *engine, const char *admin, const char *name, const char *url,
                     const char *token);
/* GET /v1/hosts/{id} until its status is @status (at most ~60 s); that answer. */
HdEtReply hd_et_wait_status(const char *engine, const char *tok, const char *id,
                            const char *status);
void hd_et_await_status(const char *engine, const char *tok, const char *id, const char *status);
/* The driver of @addr in the engine's GET /v1/hosts/{id}/devices (NULL: none/absent). */
/* The driver of the device @addr in @list's "devices" (a DeviceList of the engine or the
 * agent): NULL when it has none or is not listed. */
char *hd_et_driver_in(JsonObject *list, const char *addr);
char *hd_et_engine_driver(const char *engine, const char *tok, const char *id, const char *addr);
/* How many @what ("devices", "groups") the agent lists. */
guint hd_et_agent_count(const char *agent, const char *tok, const char *what);
/* The audit log has an event @action with @result. */
gboolean hd_et_has_event(const char *engine, const char *tok, const char *action,
                         const char *result);
void hd_et_rm_rf(const char *dir);
/* A soup_session_send_and_read_async() callback storing the GBytes in *(GBytes **)data. */
void hd_et_on_async_done(GObject *src, GAsyncResult *res, gpointer data);

/* A call on an agent's own API (not recorded against the engine's document), with its token;
 * the answer's JSON parsed when there is a body. */
HdEtReply hd_et_agent_call(const char *agent_url, const char *token, const char *method,
                           const char *path, const char *body);

/* The usual world of an engine test: one hostdevd on a fixture of a topology, an engine on a
 * temporary database with an admin ("ops") and a viewer ("portal") token, the agent added as a
 * host and awaited up. */
typedef struct {
        HdTestFixture *fx;
        HdEtProc *agent;
        char *agent_token;
        char *dir;
        char *admin;
        char *viewer;
        HdEtProc *engine;
        char *host; /* the engine's id of the agent's host */
} HdEtEnv;

/* Start it all on @topology, the host named @host_name. */
void hd_et_env_setup(HdEtEnv *env, const char *topology, const char *host_name);
/* Stop the engine and the agent (SIGTERM: both must exit 0), remove what was made. */
void hd_et_env_teardown(HdEtEnv *env);
/* hd_et_agent_call() on the env's agent. */
HdEtReply hd_et_env_agent_call(HdEtEnv *env, const char *method, const char *path,
                               const char *body);

/* An HTTP server in a thread of its own, with its own main context (a fake engine, an agent in
 * front of the real one): a SoupServer on 127.0.0.1, port 0, whose @handler answers every path
 * in that thread; @stopping (NULL: none) is called with @data in that thread once its loop
 * ended, before the server closes, to end what the handler started. */
typedef struct HdEtServer HdEtServer;
HdEtServer *hd_et_server_start(const char *name, SoupServerCallback handler,
                               GDestroyNotify stopping, gpointer data);
/* Its URL, without the trailing slash. */
const char *hd_et_server_url(const HdEtServer *s);
/* Quit its loop, join its thread, free it. */
void hd_et_server_stop(HdEtServer *s);
