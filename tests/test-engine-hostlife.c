/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine's host lifecycle and kernel tab against real hostdevd agents (engine-testlib.h):
 * the host half of the seed workflow on the firmware-only fixture (the firmware has VT-d, the
 * kernel runs with intel_iommu=off): passthrough disabled -> the kernel tab enables the IOMMU
 * (refused outside maintenance) -> maintenance -> reboot -> rebooting -> maintenance with a
 * new boot id -> activate -> up, passthrough enabled, groups present. Every refusal is its own
 * assertion (status, error code, message), and each leaves an audit row.
 *
 * A reboot that does not come back: HOSTDEVD_TEST_REBOOT_DELAY_MS holds the sim's reboot back,
 * so the host stays rebooting with last_error, whatever the timing (and the refusals while it
 * reboots are asserted there, where no race can end the reboot first).
 */
#include "config.h"

#include <signal.h>
#include <sqlite3.h>
#include <string.h>

#include "engine-testlib.h"

#define AUDIO "0000:01:00.1"

/* ---- helpers ---- */

static JsonObject *get_host(const char *engine, const char *tok, const char *id, HdEtReply *r)
{
        g_autofree char *path = g_strconcat("/v1/hosts/", id, NULL);

        *r = hd_et_call(engine, "GET", path, NULL, tok);
        g_assert_cmpuint(r->status, ==, 200);
        return hd_et_obj(r);
}

/* Poll the host (at most 1200 times, 50 ms apart) until @done holds, each answer in
 * @status. */
static void await_host(const char *engine, const char *tok, const char *id, const char *status,
                       gboolean (*done)(JsonObject *h))
{
        gboolean seen = FALSE;

        for (guint i = 0; i < 1200 && !seen; i++) {
                g_auto(HdEtReply) r = {0};
                JsonObject *h = get_host(engine, tok, id, &r);
                g_assert_cmpstr(json_object_get_string_member(h, "status"), ==, status);
                seen = done(h);
                if (!seen)
                        g_usleep(50000);
        }
        g_assert_true(seen);
}

static HdEtReply host_call(const char *engine, const char *method, const char *id, const char *what,
                           const char *body, const char *tok)
{
        g_autofree char *path = g_strconcat("/v1/hosts/", id, "/", what, NULL);
        return hd_et_call(engine, method, path, body, tok);
}

static gboolean array_has(JsonArray *a, const char *word)
{
        for (guint i = 0; a && i < json_array_get_length(a); i++)
                if (g_strcmp0(json_array_get_string_element(a, i), word) == 0)
                        return TRUE;
        return FALSE;
}

static JsonArray *kargs_member(JsonObject *host, const char *name)
{
        JsonObject *k = json_object_get_object_member(host, "kernel_args");
        return json_object_get_null_member(k, name) ? NULL : json_object_get_array_member(k, name);
}

/* await_host's conditions */
static gboolean reboot_planned(JsonObject *h)
{
        return json_object_get_boolean_member(h, "reboot_required") &&
               array_has(kargs_member(h, "configured"), "intel_iommu=on");
}

static gboolean says_not_rebooted(JsonObject *h)
{
        return !json_object_get_null_member(h, "last_error") &&
               strstr(json_object_get_string_member(h, "last_error"), "not rebooted yet");
}

static gboolean says_other_error(JsonObject *h)
{
        return !strstr(json_object_get_string_member(h, "last_error"), "not rebooted yet");
}

/* The agent's own boot id (GET /v1/host on the agent). */
static char *agent_boot_id(const char *agent, const char *tok)
{
        g_auto(HdEtReply) r = hd_et_call(agent, "GET", "/v1/host", NULL, tok);

        g_assert_cmpuint(r.status, ==, 200);
        return g_strdup(json_object_get_string_member(hd_et_obj(&r), "boot_id"));
}

/* One statement on the engine's database (the engine reads it: store.h rule 2). */
static void db_exec(const char *dir, const char *sql)
{
        g_autofree char *path = g_build_filename(dir, "engine.db", NULL);
        sqlite3 *db = NULL;
        char *err = NULL;

        g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
        sqlite3_busy_timeout(db, 10000);
        if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
                g_error("%s: %s", sql, err);
        sqlite3_close(db);
}

/* ---- the workflow ---- */

static void test_workflow(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("firmware-only");
        g_autofree char *dir = hd_test_make_tmp_dir();
        g_autofree char *admin = hd_et_token_create(dir, "ops", "admin");
        g_autofree char *viewer = hd_et_token_create(dir, "portal", "viewer");
        HdEtProc *agent = hd_et_agent_start(fx, "127.0.0.1:0");
        g_autofree char *atok = hd_et_agent_token(fx);
        HdEtProc *engine = hd_et_engine_start(dir);
        const char *e = engine->url;
        g_autofree char *id = hd_et_add_host(e, admin, "office", agent->url, atok);
        g_autofree char *boot0 = agent_boot_id(agent->url, atok);
        g_autofree char *boot1 = NULL;

        /* up, passthrough disabled because the kernel runs without an IOMMU */
        {
                g_auto(HdEtReply) r = hd_et_wait_status(e, viewer, id, "up");
                JsonObject *h = hd_et_obj(&r);
                JsonObject *pt = json_object_get_object_member(h, "passthrough");

                g_assert_false(json_object_get_boolean_member(pt, "enabled"));
                g_assert_nonnull(strstr(json_object_get_string_member(pt, "reason"), "IOMMU"));
                g_assert_cmpstr(json_object_get_string_member(h, "boot_id"), ==, boot0);
                g_assert_false(json_object_get_boolean_member(h, "reboot_required"));
                g_assert_true(array_has(kargs_member(h, "running"), "intel_iommu=off"));
                g_assert_null(kargs_member(h, "desired"));
                g_assert_cmpint(json_object_get_int_member(h, "group_count"), ==, 0);
        }
        /* the kernel tab: the agent's document, read by a viewer */
        {
                g_auto(HdEtReply) r = host_call(e, "GET", id, "kernel-args", NULL, viewer);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_true(array_has(json_object_get_array_member(hd_et_obj(&r), "running"),
                                        "intel_iommu=off"));
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "bootloader"), ==,
                                "grub");
        }
        /* a plan is allowed while up; it becomes the host's desired command line */
        {
                g_auto(HdEtReply) r =
                    host_call(e, "PUT", id, "kernel-args",
                              "{\"enable\": [\"iommu\"], \"dry_run\": true}", admin);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_true(array_has(json_object_get_array_member(hd_et_obj(&r), "added"),
                                        "intel_iommu=on"));
                g_assert_false(json_object_get_boolean_member(hd_et_obj(&r), "applied"));
        }
        {
                g_auto(HdEtReply) r = {0};
                JsonObject *h = get_host(e, viewer, id, &r);
                g_assert_true(array_has(kargs_member(h, "desired"), "intel_iommu=on"));
                g_assert_true(array_has(kargs_member(h, "configured"), "intel_iommu=off"));
        }
        g_assert_true(hd_et_has_event(e, viewer, "host.kernel_args.plan", "ok"));
        /* applying outside maintenance: refused, nothing reaches the agent */
        {
                g_auto(HdEtReply) r =
                    host_call(e, "PUT", id, "kernel-args", "{\"enable\": [\"iommu\"]}", admin);
                hd_et_assert_reason(&r, 409, "refused", "maintenance");
        }
        {
                g_auto(HdEtReply) r = hd_et_call(agent->url, "GET", "/v1/kernel-args", NULL, atok);
                g_assert_true(array_has(json_object_get_array_member(hd_et_obj(&r), "configured"),
                                        "intel_iommu=off"));
        }
        g_assert_true(hd_et_has_event(e, viewer, "host.kernel_args.apply", "refused"));
        /* reboot and activate need maintenance */
        {
                g_auto(HdEtReply) r = host_call(e, "POST", id, "reboot", NULL, admin);
                hd_et_assert_reason(&r, 409, "refused", "maintenance only");
        }
        {
                g_auto(HdEtReply) r = host_call(e, "POST", id, "activate", NULL, admin);
                hd_et_assert_reason(&r, 409, "refused", "active already");
        }
        g_assert_true(hd_et_has_event(e, viewer, "host.reboot", "refused"));
        g_assert_true(hd_et_has_event(e, viewer, "host.activate", "refused"));
        /* a VM that runs on the host blocks maintenance, named */
        {
                g_autofree char *sql = g_strdup_printf(
                    "INSERT INTO vms (id, name, memory_mib, vcpus, host_id, state, created_at, "
                    "updated_at) VALUES ('vm-db1', 'db1', 1024, 2, '%s', 'running', "
                    "'2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z')",
                    id);
                db_exec(dir, sql);
        }
        {
                g_auto(HdEtReply) r = host_call(e, "POST", id, "maintenance", NULL, admin);
                hd_et_assert_reason(&r, 409, "refused", "db1");
        }
        g_assert_true(hd_et_has_event(e, viewer, "host.maintenance", "refused"));
        db_exec(dir, "UPDATE vms SET state = 'down' WHERE id = 'vm-db1'");
        /* maintenance; twice is refused */
        {
                g_auto(HdEtReply) r = host_call(e, "POST", id, "maintenance", "{}", admin);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "status"), ==,
                                "maintenance");
        }
        {
                g_auto(HdEtReply) r = host_call(e, "POST", id, "maintenance", NULL, admin);
                hd_et_assert_reason(&r, 409, "refused", "maintenance already");
        }
        g_assert_true(hd_et_has_event(e, viewer, "host.maintenance", "ok"));
        /* apply in maintenance: the agent's bootloader changes, a reboot is required */
        {
                g_auto(HdEtReply) r =
                    host_call(e, "PUT", id, "kernel-args", "{\"enable\": [\"iommu\"]}", admin);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_true(json_object_get_boolean_member(hd_et_obj(&r), "applied"));
                g_assert_true(json_object_get_boolean_member(hd_et_obj(&r), "reboot_required"));
        }
        g_assert_true(hd_et_has_event(e, viewer, "host.kernel_args.apply", "ok"));
        /* the engine re-reads the facts; the host stays in maintenance */
        await_host(e, viewer, id, "maintenance", reboot_planned);
        /* reboot: rebooting at once; refusals while it lasts */
        {
                g_auto(HdEtReply) r = host_call(e, "POST", id, "reboot", NULL, admin);
                g_assert_cmpuint(r.status, ==, 202);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "status"), ==,
                                "rebooting");
                g_assert_nonnull(json_object_get_string_member(hd_et_obj(&r), "rebooting_since"));
        }
        g_assert_true(hd_et_has_event(e, viewer, "host.reboot", "ok"));
        /* back in maintenance with another boot id, the IOMMU on, groups present */
        {
                gboolean back = FALSE;
                for (guint i = 0; i < 1200 && !back; i++) {
                        g_auto(HdEtReply) r = {0};
                        JsonObject *h = get_host(e, viewer, id, &r);
                        const char *st = json_object_get_string_member(h, "status");

                        if (strcmp(st, "rebooting") != 0)
                                g_assert_cmpstr(st, ==, "maintenance");
                        back = strcmp(st, "maintenance") == 0 &&
                               json_object_get_int_member(h, "group_count") > 0;
                        if (back) {
                                boot1 = g_strdup(json_object_get_string_member(h, "boot_id"));
                                g_assert_cmpstr(boot1, !=, boot0);
                                g_assert_false(
                                    json_object_get_boolean_member(h, "reboot_required"));
                                g_assert_true(
                                    array_has(kargs_member(h, "running"), "intel_iommu=on"));
                                g_assert_true(json_object_get_boolean_member(
                                    json_object_get_object_member(h, "passthrough"), "enabled"));
                        } else {
                                g_usleep(50000);
                        }
                }
                g_assert_true(back);
        }
        {
                g_autofree char *b = agent_boot_id(agent->url, atok);
                g_assert_cmpstr(b, ==, boot1);
        }
        g_assert_true(hd_et_has_event(e, viewer, "host.rebooted", "ok"));
        /* the sync's reads after the reboot leave the host in maintenance, and say so */
        g_assert_true(hd_et_has_event(e, viewer, "host.sync", "ok"));
        /* in maintenance the inventory is still synced: a detach on the host shows */
        {
                g_auto(HdEtReply) r = hd_et_call(agent->url, "POST", "/v1/devices/" AUDIO "/detach",
                                                 "{\"group\": true}", atok);
                if (r.status != 200)
                        g_error("detach: %u %s", r.status, r.body);
        }
        {
                g_autofree char *driver = NULL;
                for (guint i = 0; i < 1200; i++) {
                        g_free(driver);
                        driver = hd_et_engine_driver(e, viewer, id, AUDIO);
                        if (g_strcmp0(driver, "vfio-pci") == 0)
                                break;
                        g_usleep(50000);
                }
                g_assert_cmpstr(driver, ==, "vfio-pci");
        }
        {
                g_auto(HdEtReply) r = {0};
                g_assert_cmpstr(
                    json_object_get_string_member(get_host(e, viewer, id, &r), "status"), ==,
                    "maintenance");
        }
        /* activate: up, passthrough enabled, groups present */
        {
                g_auto(HdEtReply) r = host_call(e, "POST", id, "activate", NULL, admin);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "status"), !=,
                                "maintenance");
        }
        {
                g_auto(HdEtReply) r = hd_et_wait_status(e, viewer, id, "up");
                JsonObject *h = hd_et_obj(&r);
                g_assert_true(json_object_get_boolean_member(
                    json_object_get_object_member(h, "passthrough"), "enabled"));
                g_assert_cmpint(json_object_get_int_member(h, "group_count"), ==,
                                hd_et_agent_count(agent->url, atok, "groups"));
                g_assert_cmpint(json_object_get_int_member(h, "group_count"), >, 0);
                g_assert_cmpstr(json_object_get_string_member(h, "boot_id"), ==, boot1);
        }
        {
                g_auto(HdEtReply) r = host_call(e, "GET", id, "groups", NULL, viewer);
                g_assert_cmpuint(r.status, ==, 200);
                g_assert_cmpuint(
                    json_array_get_length(json_object_get_array_member(hd_et_obj(&r), "groups")), >,
                    0);
        }
        g_assert_true(hd_et_has_event(e, viewer, "host.activate", "ok"));
        {
                g_auto(HdEtReply) r = host_call(e, "POST", id, "activate", NULL, admin);
                hd_et_assert_reason(&r, 409, "refused", "active already");
        }
        hd_et_proc_stop(engine, SIGTERM);
        hd_et_proc_stop(agent, SIGTERM);
        hd_et_rm_rf(dir);
}

/* ---- bad input on the kernel tab and the transitions ---- */

static void test_refusals(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("firmware-only");
        g_autofree char *dir = hd_test_make_tmp_dir();
        g_autofree char *admin = hd_et_token_create(dir, "ops", "admin");
        g_autofree char *viewer = hd_et_token_create(dir, "portal", "viewer");
        HdEtProc *agent = hd_et_agent_start(fx, "127.0.0.1:0");
        g_autofree char *atok = hd_et_agent_token(fx);
        HdEtProc *engine = hd_et_engine_start(dir);
        const char *e = engine->url;
        g_autofree char *id = hd_et_add_host(e, admin, "lab", agent->url, atok);
        static const struct {
                const char *body;
                const char *needle;
        } bad[] = {
            {"{\"enable\": [\"bogus\"], \"dry_run\": true}", "unknown kernel option \"bogus\""},
            {"{\"disable\": [\"iommu-off\"], \"dry_run\": true}", "valid options: iommu"},
            {"{\"enable\": \"iommu\", \"dry_run\": true}", "array of strings"},
            {"{\"enable\": [7], \"dry_run\": true}", "array of strings"},
            {"{\"enable\": null, \"dry_run\": true}", "array of strings"},
            {"{\"enable\": [\"iommu=1\"], \"dry_run\": true}", "takes no value"},
            {"{\"enable\": [\"vfio-ids\"], \"dry_run\": true}", "needs a value"},
            {"{\"enable\": [\"vfio-ids=10de:zz\"], \"dry_run\": true}", "VENDOR:DEVICE"},
            {"{\"custom\": [\"a\\u00e9\"], \"dry_run\": true}", "printable ASCII"},
            {"{\"custom\": [\"x=\\\"open\"], \"dry_run\": true}", "double quote"},
            {"{\"custom\": [\"  \"], \"dry_run\": true}", "empty argument"},
            {"{\"remove\": [\"a\\tb\"], \"dry_run\": true}", "printable ASCII"},
            {"{\"dry_run\": \"yes\"}", "true or false"},
            {"{\"bogus\": [], \"dry_run\": true}", "unknown member \"bogus\""},
            {"[\"iommu\"]", "object"},
            {"{\"enable\": [\"iommu\"], \"dry_run\": true", "JSON"},
        };

        hd_et_await_status(e, viewer, id, "up");
        for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_auto(HdEtReply) r = host_call(e, "PUT", id, "kernel-args", bad[i].body, admin);
                g_test_message("PUT kernel-args %s", bad[i].body);
                hd_et_assert_reason(&r, 400, "invalid-argument", bad[i].needle);
        }
        /* the agent's own refusal of a valid request comes back as it is (4xx, its message) */
        {
                g_auto(HdEtReply) r =
                    host_call(e, "PUT", id, "kernel-args",
                              "{\"enable\": [\"iommu\"], \"disable\": [\"iommu\"], "
                              "\"dry_run\": true}",
                              admin);
                g_assert_cmpuint(r.status / 100, ==, 4);
                g_assert_nonnull(strstr(r.body, "the agent answered"));
        }
        /* a body over 64 KiB */
        {
                g_autoptr(GString) big = g_string_new("{\"custom\": [\"");
                while (big->len < 70 * 1024)
                        g_string_append(big, "xxxxxxxxxxxxxxxx");
                g_string_append(big, "\"], \"dry_run\": true}");
                g_auto(HdEtReply) r = host_call(e, "PUT", id, "kernel-args", big->str, admin);
                hd_et_assert_error(&r, 413, "too-large");
        }
        {
                /* 65 items */
                g_autoptr(GString) many = g_string_new("{\"remove\": [");
                for (guint i = 0; i < 65; i++)
                        g_string_append_printf(many, "%s\"w%u\"", i ? "," : "", i);
                g_string_append(many, "], \"dry_run\": true}");
                g_auto(HdEtReply) r = host_call(e, "PUT", id, "kernel-args", many->str, admin);
                hd_et_assert_reason(&r, 400, "invalid-argument", "more than 64 items");
        }
        /* a viewer may read the tab, not change it */
        {
                g_auto(HdEtReply) r =
                    host_call(e, "PUT", id, "kernel-args", "{\"dry_run\": true}", viewer);
                hd_et_assert_error(&r, 403, "forbidden");
        }
        {
                g_auto(HdEtReply) r = host_call(e, "POST", id, "maintenance", NULL, viewer);
                hd_et_assert_error(&r, 403, "forbidden");
        }
        /* unknown hosts */
        for (const char *const *w =
                 (const char *const[]){"maintenance", "reboot", "activate", NULL};
             *w; w++) {
                g_auto(HdEtReply) r = host_call(e, "POST", "no-such-host", *w, NULL, admin);
                hd_et_assert_error(&r, 404, "not-found");
        }
        {
                g_auto(HdEtReply) r =
                    host_call(e, "GET", "no-such-host", "kernel-args", NULL, viewer);
                hd_et_assert_error(&r, 404, "not-found");
        }
        {
                g_auto(HdEtReply) r = host_call(e, "PUT", "no-such-host", "kernel-args",
                                                "{\"dry_run\": true}", admin);
                hd_et_assert_error(&r, 404, "not-found");
        }
        /* the transitions take no members; methods */
        {
                g_auto(HdEtReply) r =
                    host_call(e, "POST", id, "maintenance", "{\"force\": true}", admin);
                hd_et_assert_reason(&r, 400, "invalid-argument", "no members");
        }
        {
                g_auto(HdEtReply) r = host_call(e, "GET", id, "maintenance", NULL, viewer);
                hd_et_assert_error(&r, 405, "method-not-allowed");
        }
        {
                g_auto(HdEtReply) r = host_call(e, "POST", id, "kernel-args", "{}", admin);
                hd_et_assert_error(&r, 405, "method-not-allowed");
        }
        {
                g_auto(HdEtReply) r = host_call(e, "GET", id, "kernel-args?x=1", NULL, viewer);
                hd_et_assert_error(&r, 400, "invalid-argument");
        }
        /* the agent gone: the tab answers 502, a reboot is refused and the host stays in
         * maintenance with the reason */
        {
                g_auto(HdEtReply) r = host_call(e, "POST", id, "maintenance", NULL, admin);
                g_assert_cmpuint(r.status, ==, 200);
        }
        hd_et_proc_stop(agent, SIGKILL);
        {
                g_auto(HdEtReply) r = host_call(e, "GET", id, "kernel-args", NULL, viewer);
                hd_et_assert_reason(&r, 502, "agent-failed", "cannot be reached");
        }
        {
                g_auto(HdEtReply) r = host_call(e, "POST", id, "reboot", NULL, admin);
                hd_et_assert_reason(&r, 502, "agent-failed", "cannot be reached");
        }
        {
                g_auto(HdEtReply) r = {0};
                JsonObject *h = get_host(e, viewer, id, &r);
                g_assert_cmpstr(json_object_get_string_member(h, "status"), ==, "maintenance");
                g_assert_nonnull(
                    strstr(json_object_get_string_member(h, "last_error"), "cannot be reached"));
        }
        g_assert_true(hd_et_has_event(e, viewer, "host.reboot", "failed"));
        hd_et_proc_stop(engine, SIGTERM);
        hd_et_rm_rf(dir);
}

/* ---- a reboot that does not come back ---- */

static void test_reboot_never_back(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("firmware-only");
        g_autofree char *dir = hd_test_make_tmp_dir();
        g_autofree char *admin = hd_et_token_create(dir, "ops", "admin");
        g_autofree char *viewer = hd_et_token_create(dir, "portal", "viewer");
        HdEtProc *agent = NULL;
        g_autofree char *atok = NULL;
        HdEtProc *engine = hd_et_engine_start(dir);
        const char *e = engine->url;
        g_autofree char *id = NULL;
        g_autofree char *listen = NULL;
        g_autofree char *boot0 = NULL;

        /* this agent answers 202 and holds the reboot back far beyond the test */
        g_setenv("HOSTDEVD_TEST_REBOOT_DELAY_MS", "3600000", TRUE);
        agent = hd_et_agent_start(fx, "127.0.0.1:0");
        g_unsetenv("HOSTDEVD_TEST_REBOOT_DELAY_MS");
        atok = hd_et_agent_token(fx);
        listen = g_strdup(agent->url + strlen("http://"));
        id = hd_et_add_host(e, admin, "stuck", agent->url, atok);
        hd_et_await_status(e, viewer, id, "up");
        boot0 = agent_boot_id(agent->url, atok);
        {
                g_auto(HdEtReply) r = host_call(e, "POST", id, "maintenance", NULL, admin);
                g_assert_cmpuint(r.status, ==, 200);
        }
        {
                g_auto(HdEtReply) r = host_call(e, "POST", id, "reboot", NULL, admin);
                g_assert_cmpuint(r.status, ==, 202);
        }
        /* while rebooting, only the sync's new boot id ends it */
        {
                static const char *const what[] = {"maintenance", "activate", "reboot"};
                for (gsize i = 0; i < G_N_ELEMENTS(what); i++) {
                        g_auto(HdEtReply) r = host_call(e, "POST", id, what[i], NULL, admin);
                        hd_et_assert_reason(&r, 409, "refused", "is rebooting");
                }
        }
        {
                g_auto(HdEtReply) r =
                    host_call(e, "PUT", id, "kernel-args", "{\"enable\": [\"iommu\"]}", admin);
                hd_et_assert_reason(&r, 409, "refused", "maintenance only");
        }
        /* the agent answers with the old boot id: rebooting, with the reason */
        await_host(e, viewer, id, "rebooting", says_not_rebooted);
        /* the host is gone: still rebooting (never non_responsive), the connection error */
        hd_et_proc_stop(agent, SIGKILL);
        await_host(e, viewer, id, "rebooting", says_other_error);
        /* an agent back with the same boot id (restarted, not rebooted): still rebooting */
        agent = hd_et_agent_start(fx, listen);
        {
                g_autofree char *b = agent_boot_id(agent->url, atok);
                g_assert_cmpstr(b, ==, boot0);
        }
        await_host(e, viewer, id, "rebooting", says_not_rebooted);
        /* rebooted by other means (here the agent's own call): back in maintenance */
        {
                g_auto(HdEtReply) r = hd_et_call(agent->url, "POST", "/v1/host/reboot", "{}", atok);
                g_assert_cmpuint(r.status, ==, 202);
        }
        {
                g_auto(HdEtReply) r = hd_et_wait_status(e, viewer, id, "maintenance");
                g_assert_cmpstr(json_object_get_string_member(hd_et_obj(&r), "boot_id"), !=, boot0);
                g_assert_true(json_object_get_null_member(hd_et_obj(&r), "rebooting_since"));
        }
        hd_et_proc_stop(engine, SIGTERM);
        hd_et_proc_stop(agent, SIGTERM);
        hd_et_rm_rf(dir);
}

int main(int argc, char **argv)
{
        hd_et_init(&argc, &argv);
        g_test_add_func("/engine-hostlife/workflow", test_workflow);
        g_test_add_func("/engine-hostlife/refusals", test_refusals);
        g_test_add_func("/engine-hostlife/reboot-never-back", test_reboot_never_back);
        return hd_et_run();
}
