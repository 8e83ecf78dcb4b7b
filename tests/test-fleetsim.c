/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdev-fleetsim (bench/fleet/fleetsim.c) answers what hostdevd answers, byte for byte, so
 * that the engine's benchmark measures the engine against the agent's real answers.
 *
 * A hostdevd and a fleet simulator run on the same fixture tree (sim backend); a raw HTTP/1.1
 * client sends both the same requests (GET /v1/host, /v1/devices, /v1/groups, conditional
 * requests, long polls, a missing or wrong token) and compares the whole responses: status
 * line, every header in order, body. Masked, because they legitimately differ between two
 * processes:
 *   - the Date header (the time of the answer);
 *   - the boot id in the ETag ("\"<boot>-<generation>\"": random per agent process, so that a
 *     restarted agent never answers 304 to an ETag of its previous life); the generation
 *     after the dash is compared;
 * and, for a private host (a copy of the tree: its own root directory) after a detach, the
 * generation number (a copy's driver-link events are counted by its own inotify watch, so
 * the count of bumps may differ; each answer's body and X-Hostdev-Generation are checked to
 * agree with each other instead).
 * Nothing else is masked: the shared hosts serve the fixture's own root, so even "root" in
 * /v1/host is the same.
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "testlib.h"

#define GPU "0000:01:00.0"

typedef struct {
        GSubprocess *proc;
        char *url; /* "http://127.0.0.1:PORT/" */
        guint16 port;
        char *token;
        char *ro_token;
} Agent;

typedef struct {
        GSubprocess *proc;
        GOutputStream *stdin_pipe;
        GPtrArray *hosts; /* Agent* (proc NULL) */
        GPtrArray *kinds; /* "shared" / "private" */
} Fleet;

static void die_with_parent(gpointer data)
{
        prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static guint16 port_of(const char *url)
{
        const char *colon = strrchr(url, ':');
        g_assert_nonnull(colon);
        return (guint16)g_ascii_strtoull(colon + 1, NULL, 10);
}

static char *read_token(const char *root, const char *name)
{
        g_autofree char *path = g_build_filename(root, "var/lib/hostdev", name, NULL);
        char *text = NULL;

        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        return g_strstrip(text);
}

static Agent *hostdevd_start(HdTestFixture *fx)
{
        const char *bin = g_getenv("HOSTDEVD");
        g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(
            G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
        g_autoptr(GError) error = NULL;
        g_autoptr(GDataInputStream) in = NULL;
        g_autofree char *line = NULL;
        Agent *a = g_new0(Agent, 1);

        g_assert_nonnull(bin);
        g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
        a->proc = g_subprocess_launcher_spawn(l, &error, bin, "--root", fx->root, "--backend",
                                              "sim", "--libvirt-uri", "test:///default", "--listen",
                                              "127.0.0.1:0", NULL);
        g_assert_no_error(error);
        in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(a->proc));
        line = g_data_input_stream_read_line_utf8(in, NULL, NULL, &error);
        g_assert_no_error(error);
        g_assert_nonnull(line);
        g_assert_true(g_str_has_prefix(line, "listening "));
        a->url = g_strdup(line + strlen("listening "));
        a->port = port_of(a->url);
        a->token = read_token(fx->root, "agent.token");
        a->ro_token = read_token(fx->root, "agent-ro.token");
        return a;
}

static void agent_free(Agent *a)
{
        g_free(a->url);
        g_free(a->token);
        g_free(a->ro_token);
        g_free(a);
}

static void stop_and_wait(GSubprocess *proc)
{
        g_autoptr(GError) error = NULL;

        g_subprocess_send_signal(proc, SIGTERM);
        g_assert_true(g_subprocess_wait(proc, NULL, &error));
        g_assert_no_error(error);
        g_assert_true(g_subprocess_get_if_exited(proc));
        g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 0);
}

static void hostdevd_stop(Agent *a)
{
        stop_and_wait(a->proc);
        g_object_unref(a->proc);
        agent_free(a);
}

static Fleet *fleet_start(HdTestFixture *fx, const char *hosts, const char *private_hosts)
{
        const char *bin = g_getenv("HOSTDEV_FLEETSIM");
        g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(
            G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
            G_SUBPROCESS_FLAGS_STDERR_SILENCE);
        g_autoptr(GError) error = NULL;
        g_autoptr(GDataInputStream) in = NULL;
        Fleet *f = g_new0(Fleet, 1);

        g_assert_nonnull(bin);
        g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
        f->proc = g_subprocess_launcher_spawn(l, &error, bin, "--root", fx->root, "--hosts", hosts,
                                              "--private", private_hosts, NULL);
        g_assert_no_error(error);
        f->stdin_pipe = g_object_ref(g_subprocess_get_stdin_pipe(f->proc));
        f->hosts = g_ptr_array_new_with_free_func((GDestroyNotify)agent_free);
        f->kinds = g_ptr_array_new_with_free_func(g_free);
        in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(f->proc));
        for (;;) {
                g_autofree char *line = g_data_input_stream_read_line_utf8(in, NULL, NULL, &error);
                g_auto(GStrv) w = NULL;
                Agent *a;

                g_assert_no_error(error);
                g_assert_nonnull(line);
                w = g_strsplit(line, " ", -1);
                if (strcmp(w[0], "ready") == 0) {
                        g_assert_cmpuint(g_ascii_strtoull(w[1], NULL, 10), ==, f->hosts->len);
                        break;
                }
                /* host INDEX URL TOKEN READ_ONLY_TOKEN shared|private */
                g_assert_cmpstr(w[0], ==, "host");
                g_assert_cmpuint(g_strv_length(w), ==, 6);
                g_assert_cmpuint(g_ascii_strtoull(w[1], NULL, 10), ==, f->hosts->len);
                a = g_new0(Agent, 1);
                a->url = g_strdup(w[2]);
                a->port = port_of(a->url);
                a->token = g_strdup(w[3]);
                a->ro_token = g_strdup(w[4]);
                g_assert_cmpuint(strlen(a->token), ==, 64);
                g_assert_cmpstr(a->token, !=, a->ro_token);
                g_ptr_array_add(f->hosts, a);
                g_ptr_array_add(f->kinds, g_strdup(w[5]));
        }
        g_assert_cmpuint(f->hosts->len, ==, g_ascii_strtoull(hosts, NULL, 10));
        return f;
}

static void fleet_free(Fleet *f)
{
        g_clear_object(&f->stdin_pipe);
        g_object_unref(f->proc);
        g_ptr_array_unref(f->hosts);
        g_ptr_array_unref(f->kinds);
        g_free(f);
}

/* One request on its own connection; the whole response as received (Connection: close). */
static char *raw(guint16 port, const char *method, const char *path, const char *token,
                 const char *if_none_match, const char *body)
{
        g_autoptr(GSocketClient) c = g_socket_client_new();
        g_autoptr(GSocketConnection) conn = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GString) req = g_string_new(NULL);
        GString *out = g_string_new(NULL);
        char buf[65536];
        gssize n;

        g_socket_client_set_timeout(c, 60);
        conn = g_socket_client_connect_to_host(c, "127.0.0.1", port, NULL, &error);
        g_assert_no_error(error);
        g_string_append_printf(req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n",
                               method, path);
        if (token)
                g_string_append_printf(req, "Authorization: Bearer %s\r\n", token);
        if (if_none_match)
                g_string_append_printf(req, "If-None-Match: %s\r\n", if_none_match);
        if (body)
                g_string_append_printf(
                    req, "Content-Type: application/json\r\nContent-Length: %zu\r\n", strlen(body));
        g_string_append(req, "\r\n");
        if (body)
                g_string_append(req, body);
        g_assert_true(g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)),
                                                req->str, req->len, NULL, NULL, &error));
        g_assert_no_error(error);
        while ((n = g_input_stream_read(g_io_stream_get_input_stream(G_IO_STREAM(conn)), buf,
                                        sizeof(buf), NULL, &error)) > 0)
                g_string_append_len(out, buf, n);
        g_assert_no_error(error);
        return g_string_free(out, FALSE);
}

static guint status_of(const char *response)
{
        g_assert_true(g_str_has_prefix(response, "HTTP/1.1 "));
        return (guint)g_ascii_strtoull(response + 9, NULL, 10);
}

/* The value of header @name in @response (NULL when absent). */
static char *header_of(const char *response, const char *name)
{
        g_autofree char *needle = g_strdup_printf("\r\n%s: ", name);
        const char *end_of_headers = strstr(response, "\r\n\r\n");
        const char *p = strstr(response, needle);

        if (!p || (end_of_headers && p > end_of_headers))
                return NULL;
        p += strlen(needle);
        return g_strndup(p, strcspn(p, "\r\n"));
}

static const char *body_of(const char *response)
{
        const char *p = strstr(response, "\r\n\r\n");
        gsize offset;

        g_assert_nonnull(p);
        offset = (gsize)(p - response) + 4;
        return response + offset;
}

/* @response with what legitimately differs between two agent processes masked (see the top);
 * @mask_generation also masks the generation (private trees). */
static char *masked(const char *response, gboolean mask_generation)
{
        g_autoptr(GRegex) date = g_regex_new("\r\nDate: [^\r]*", 0, 0, NULL);
        g_autoptr(GRegex) etag = g_regex_new("\r\nETag: \"[0-9a-f]{8}-", 0, 0, NULL);
        g_autoptr(GRegex) gen_etag = g_regex_new("\r\nETag: \"BOOT-[0-9]+\"", 0, 0, NULL);
        g_autoptr(GRegex) gen_header = g_regex_new("\r\nX-Hostdev-Generation: [0-9]+", 0, 0, NULL);
        g_autoptr(GRegex) gen_body =
            g_regex_new("^\\{\n  \"generation\" : [0-9]+,", G_REGEX_MULTILINE, 0, NULL);
        g_autofree char *a = g_regex_replace_literal(date, response, -1, 0, "\r\nDate: *", 0, NULL);
        g_autofree char *b = g_regex_replace_literal(etag, a, -1, 0, "\r\nETag: \"BOOT-", 0, NULL);
        g_autofree char *c = NULL, *d = NULL;

        if (!mask_generation)
                return g_steal_pointer(&b);
        c = g_regex_replace_literal(gen_etag, b, -1, 0, "\r\nETag: \"BOOT-N\"", 0, NULL);
        d = g_regex_replace_literal(gen_header, c, -1, 0, "\r\nX-Hostdev-Generation: N", 0, NULL);
        return g_regex_replace_literal(gen_body, d, -1, 0, "{\n  \"generation\" : N,", 0, NULL);
}

static void assert_same(const char *agent_response, const char *sim_response,
                        gboolean mask_generation)
{
        g_autofree char *a = masked(agent_response, mask_generation);
        g_autofree char *s = masked(sim_response, mask_generation);

        g_assert_cmpstr(s, ==, a);
}

/* The ETag, the X-Hostdev-Generation header and the body's generation tell the same number. */
static void assert_generation_consistent(const char *response)
{
        g_autofree char *etag = header_of(response, "ETag");
        g_autofree char *gen = header_of(response, "X-Hostdev-Generation");
        g_autofree char *tail = NULL;
        g_autofree char *in_body = NULL;

        g_assert_nonnull(etag);
        g_assert_nonnull(gen);
        tail = g_strdup_printf("-%s\"", gen);
        g_assert_true(g_str_has_suffix(etag, tail));
        if (status_of(response) == 200) {
                in_body = g_strdup_printf("{\n  \"generation\" : %s,", gen);
                g_assert_true(g_str_has_prefix(body_of(response), in_body));
        }
}

typedef struct {
        guint16 port;
        const char *path, *token, *etag;
        char *answer;
} Poll;

static gpointer poll_thread(gpointer data)
{
        Poll *p = data;

        p->answer = raw(p->port, "GET", p->path, p->token, p->etag, NULL);
        return NULL;
}

/* Until one long poll waits on @a (its /metrics: hostdev_long_polls_waiting 1); bounded. */
static void await_polling(Agent *a)
{
        gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

        for (;;) {
                g_autofree char *m = raw(a->port, "GET", "/metrics", a->token, NULL, NULL);
                if (status_of(m) == 200 &&
                    strstr(body_of(m), "\nhostdev_long_polls_waiting 1\n"))
                        return;
                if (g_get_monotonic_time() > deadline)
                        g_error("the long poll never waited on port %u: %s", a->port, m);
                g_usleep(10 * 1000);
        }
}

static const char *const READS[] = {"/v1/host", "/v1/devices", "/v1/groups", NULL};

/* Every read, the conditional requests, the long poll's end and the refusals: the same bytes
 * from a shared host, a private host and hostdevd. */
static void test_same_answers(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        Agent *agent = hostdevd_start(fx);
        Fleet *f = fleet_start(fx, "3", "1");
        Agent *shared = f->hosts->pdata[1];
        Agent *priv = f->hosts->pdata[0];

        g_assert_cmpstr(f->kinds->pdata[0], ==, "private");
        g_assert_cmpstr(f->kinds->pdata[1], ==, "shared");
        g_assert_cmpstr(f->kinds->pdata[2], ==, "shared");
        /* three hosts, three ports, three tokens */
        g_assert_cmpuint(shared->port, !=, priv->port);
        g_assert_cmpstr(shared->token, !=, priv->token);
        g_assert_cmpstr(shared->token, !=, ((Agent *)f->hosts->pdata[2])->token);

        for (const char *const *p = READS; *p; p++) {
                g_autofree char *a = raw(agent->port, "GET", *p, agent->token, NULL, NULL);
                g_autofree char *s = raw(shared->port, "GET", *p, shared->token, NULL, NULL);
                g_autofree char *s_ro = raw(shared->port, "GET", *p, shared->ro_token, NULL, NULL);
                g_autofree char *pr = raw(priv->port, "GET", *p, priv->token, NULL, NULL);
                g_autofree char *head = raw(agent->port, "HEAD", *p, agent->token, NULL, NULL);
                g_autofree char *s_head = raw(shared->port, "HEAD", *p, shared->token, NULL, NULL);

                g_assert_cmpuint(status_of(a), ==, 200);
                g_assert_cmpuint(strlen(body_of(a)), >, 100);
                assert_same(a, s, FALSE);
                assert_same(a, s_ro, FALSE);
                assert_same(head, s_head, FALSE);
                if (strcmp(*p, "/v1/host") == 0) {
                        /* a private host has its own root directory: only "root" differs */
                        g_autofree char *line_a = g_strdup_printf("\"root\":\"%s\"", fx->root);
                        const char *at = strstr(pr, "\"root\":\"");
                        g_autofree char *own = NULL;
                        g_autoptr(GString) as_shared = g_string_new(pr);

                        g_assert_nonnull(strstr(body_of(a), line_a));
                        g_assert_nonnull(at);
                        own = g_strndup(at, strcspn(at + 8, "\"") + 9);
                        g_assert_cmpstr(own, !=, line_a);
                        /* the same length: cp -a into "<tmp>/host-0" */
                        g_assert_cmpuint(g_string_replace(as_shared, own, line_a, 1), ==, 1);
                        if (strlen(own) != strlen(line_a)) {
                                g_autofree char *cl_a = header_of(a, "Content-Length");
                                g_autofree char *cl_p = header_of(pr, "Content-Length");
                                g_autofree char *want = g_strdup_printf(
                                    "%zu", strlen(body_of(pr)) + strlen(line_a) - strlen(own));
                                g_assert_cmpstr(cl_a, ==, want);
                                g_autofree char *h_p =
                                    g_strdup_printf("\r\nContent-Length: %s\r\n", cl_p);
                                g_autofree char *h_a =
                                    g_strdup_printf("\r\nContent-Length: %s\r\n", cl_a);
                                g_assert_cmpuint(g_string_replace(as_shared, h_p, h_a, 1), ==, 1);
                        }
                        assert_same(a, as_shared->str, FALSE);
                } else {
                        assert_same(a, pr, FALSE);
                }
        }
        /* conditional requests: each answers 304 to its own ETag, 200 to the other's (a
         * different boot id), and the same bytes either way */
        for (const char *const *p = READS + 1; *p; p++) {
                g_autofree char *a = raw(agent->port, "GET", *p, agent->token, NULL, NULL);
                g_autofree char *s = raw(shared->port, "GET", *p, shared->token, NULL, NULL);
                g_autofree char *etag_a = header_of(a, "ETag");
                g_autofree char *etag_s = header_of(s, "ETag");
                g_autofree char *a304 = raw(agent->port, "GET", *p, agent->token, etag_a, NULL);
                g_autofree char *s304 = raw(shared->port, "GET", *p, shared->token, etag_s, NULL);
                g_autofree char *a200 = raw(agent->port, "GET", *p, agent->token, etag_s, NULL);
                g_autofree char *s200 = raw(shared->port, "GET", *p, shared->token, etag_a, NULL);
                g_autofree char *wait = g_strdup_printf("%s?wait=1", *p);
                g_autofree char *apoll = raw(agent->port, "GET", wait, agent->token, etag_a, NULL);
                g_autofree char *spoll =
                    raw(shared->port, "GET", wait, shared->token, etag_s, NULL);

                g_assert_cmpstr(etag_a, !=, etag_s);
                g_assert_cmpuint(status_of(a304), ==, 304);
                g_assert_cmpstr(body_of(a304), ==, "");
                assert_same(a304, s304, FALSE);
                g_assert_cmpuint(status_of(a200), ==, 200);
                assert_same(a200, s200, FALSE);
                /* the long poll's wait ran out: 304 */
                g_assert_cmpuint(status_of(apoll), ==, 304);
                assert_same(apoll, spoll, FALSE);
                assert_generation_consistent(a);
                assert_generation_consistent(s);
        }
        /* refusals: no token, a wrong token, a bad wait, an unknown path */
        {
                const char *paths[] = {"/v1/devices", "/v1/devices?wait=301", "/v1/nothing", NULL};
                for (const char **p = paths; *p; p++) {
                        g_autofree char *a_none = raw(agent->port, "GET", *p, NULL, NULL, NULL);
                        g_autofree char *s_none = raw(shared->port, "GET", *p, NULL, NULL, NULL);
                        g_autofree char *a_bad = raw(agent->port, "GET", *p, "x", NULL, NULL);
                        g_autofree char *s_bad = raw(shared->port, "GET", *p, "x", NULL, NULL);
                        g_autofree char *a_ok =
                            raw(agent->port, "GET", *p, agent->token, NULL, NULL);
                        g_autofree char *s_ok =
                            raw(shared->port, "GET", *p, shared->token, NULL, NULL);

                        g_assert_cmpuint(status_of(a_none), ==, 401);
                        assert_same(a_none, s_none, FALSE);
                        g_assert_cmpuint(status_of(a_bad), ==, 401);
                        assert_same(a_bad, s_bad, FALSE);
                        assert_same(a_ok, s_ok, FALSE);
                }
        }
        /* another host's token is not this host's */
        {
                g_autofree char *r =
                    raw(shared->port, "GET", "/v1/devices", priv->token, NULL, NULL);
                g_assert_cmpuint(status_of(r), ==, 401);
        }
        stop_and_wait(f->proc);
        fleet_free(f);
        hostdevd_stop(agent);
}

/* A shared host refuses every mutating call (a change would be every shared host's); a
 * private host changes drivers as hostdevd does, and its long poll answers the change. */
static void test_driver_change(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdTestFixture) twin = hd_test_fixture_copy(fx);
        Agent *agent = hostdevd_start(twin);
        Fleet *f = fleet_start(fx, "3", "2");
        Agent *priv = f->hosts->pdata[0];
        Agent *shared = f->hosts->pdata[1];
        const char *detach = "{\"group\": true}";

        g_assert_cmpstr(f->kinds->pdata[0], ==, "private");
        g_assert_cmpstr(f->kinds->pdata[1], ==, "shared");
        g_assert_cmpstr(f->kinds->pdata[2], ==, "private");
        {
                g_autofree char *r = raw(shared->port, "POST", "/v1/devices/" GPU "/detach",
                                         shared->token, NULL, detach);
                g_autofree char *drv = hd_test_driver(fx, GPU);
                g_assert_cmpuint(status_of(r), ==, 403);
                g_autofree char *want = g_strdup_printf(
                    "{\"error\":{\"code\":\"forbidden\",\"message\":\"hostdevd serves this "
                    "host read-only (--read-only); POST /v1/devices/%s/detach is not allowed\"}}",
                    GPU);
                g_assert_cmpstr(body_of(r), ==, want);
                g_assert_cmpstr(drv, ==, "nouveau");
        }
        {
                g_autofree char *before =
                    raw(priv->port, "GET", "/v1/devices", priv->token, NULL, NULL);
                g_autofree char *etag = header_of(before, "ETag");
                g_autofree char *shared_before =
                    raw(shared->port, "GET", "/v1/devices", shared->token, NULL, NULL);
                g_autofree char *shared_etag = header_of(shared_before, "ETag");
                g_autofree char *wait_path = g_strdup("/v1/devices?wait=30");
                g_autofree char *a_det = NULL, *p_det = NULL, *a_after = NULL, *p_after = NULL;
                g_autofree char *polled = NULL, *shared_after = NULL, *polled_etag = NULL;
                Poll poll = {priv->port, wait_path, priv->token, etag, NULL};
                GThread *t = g_thread_new("poll", poll_thread, &poll);

                /* the change lands while the poll waits (/metrics counts it) */
                await_polling(priv);
                a_det = raw(agent->port, "POST", "/v1/devices/" GPU "/detach", agent->token, NULL,
                            detach);
                p_det = raw(priv->port, "POST", "/v1/devices/" GPU "/detach", priv->token, NULL,
                            detach);
                g_assert_cmpuint(status_of(a_det), ==, 200);
                /* the report names the paths below the root, so the two trees agree */
                assert_same(a_det, p_det, FALSE);
                a_after = raw(agent->port, "GET", "/v1/devices", agent->token, NULL, NULL);
                p_after = raw(priv->port, "GET", "/v1/devices", priv->token, NULL, NULL);
                g_assert_nonnull(strstr(body_of(p_after), "\"vfio-pci\""));
                assert_same(a_after, p_after, TRUE);
                assert_generation_consistent(p_after);
                /* the long poll that waited answers the new generation */
                g_thread_join(t);
                g_assert_cmpuint(status_of(poll.answer), ==, 200);
                assert_generation_consistent(poll.answer);
                g_assert_nonnull(strstr(body_of(poll.answer), "\"vfio-pci\""));
                g_free(poll.answer);
                /* and one sent after it with the old ETag answers at once */
                polled = raw(priv->port, "GET", wait_path, priv->token, etag, NULL);
                g_assert_cmpuint(status_of(polled), ==, 200);
                polled_etag = header_of(polled, "ETag");
                g_assert_cmpstr(polled_etag, !=, etag);
                assert_generation_consistent(polled);
                /* the other hosts did not change */
                shared_after =
                    raw(shared->port, "GET", "/v1/devices", shared->token, shared_etag, NULL);
                g_assert_cmpuint(status_of(shared_after), ==, 304);
        }
        /* the end of its stdin stops the simulator (a benchmark that dies takes it along) */
        {
                g_autoptr(GError) error = NULL;
                g_assert_true(g_output_stream_close(f->stdin_pipe, NULL, &error));
                g_assert_true(g_subprocess_wait(f->proc, NULL, &error));
                g_assert_no_error(error);
                g_assert_true(g_subprocess_get_if_exited(f->proc));
                g_assert_cmpint(g_subprocess_get_exit_status(f->proc), ==, 0);
        }
        fleet_free(f);
        hostdevd_stop(agent);
}

/* Refused options: exit 2 and what to give. */
static void test_options(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *bin = g_getenv("HOSTDEV_FLEETSIM");
        static const char *const usage = "give --root DIR, 1 <= --hosts <= 60000, 0 <= --private "
                                         "<= --hosts and ports below 65536";
        const char *const cases[][6] = {
            {"--hosts", "1", NULL},
            {"--root", "ROOT", "--hosts", "0", NULL},
            {"--root", "ROOT", "--hosts", "60001", NULL},
            {"--root", "ROOT", "--hosts", "2", "--private", "3"},
            {"--root", "ROOT", "--private", "-2", NULL},
            {"--root", "ROOT", "--hosts", "10", "--base-port", "65530"},
        };

        g_assert_nonnull(bin);
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                const char *argv[8] = {bin};
                g_autofree char *out = NULL, *err = NULL;
                guint n = 1;

                for (guint k = 0; k < 6 && cases[i][k]; k++)
                        argv[n++] = strcmp(cases[i][k], "ROOT") == 0 ? fx->root : cases[i][k];
                argv[n] = NULL;
                g_assert_cmpint(hd_test_run_guarded(argv, NULL, 60, &out, &err), ==, 2);
                if (!strstr(err, usage))
                        g_error("case %zu: %s", i, err);
                g_assert_cmpstr(out, ==, "");
        }
        /* a tree that is not there */
        {
                const char *argv[] = {bin,       "--root", "/nonexistent/hostdev-fleetsim",
                                      "--hosts", "1",      NULL};
                g_autofree char *out = NULL, *err = NULL;
                g_assert_cmpint(hd_test_run_guarded(argv, NULL, 60, &out, &err), ==, 1);
                g_assert_nonnull(strstr(err, "cannot open /nonexistent/hostdev-fleetsim"));
        }
}

/* --base-port: host i listens on P + i. */
static void test_base_port(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(GSocket) probe =
            g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
        g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
        g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
        g_autoptr(GSocketAddress) bound = NULL;
        g_autofree char *port = NULL;
        guint16 p;
        Fleet *f;

        /* a free port: the kernel's pick, released just before the simulator binds it */
        g_assert_true(g_socket_bind(probe, any, FALSE, NULL));
        bound = g_socket_get_local_address(probe, NULL);
        p = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
        g_socket_close(probe, NULL);
        port = g_strdup_printf("%u", p);
        {
                const char *bin = g_getenv("HOSTDEV_FLEETSIM");
                g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(
                    G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                    G_SUBPROCESS_FLAGS_STDERR_SILENCE);
                g_autoptr(GError) error = NULL;
                g_autoptr(GDataInputStream) in = NULL;
                g_autofree char *line = NULL, *ready = NULL, *want = NULL;

                g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
                f = g_new0(Fleet, 1);
                f->proc =
                    g_subprocess_launcher_spawn(l, &error, bin, "--root", fx->root, "--hosts", "1",
                                                "--private", "0", "--base-port", port, NULL);
                g_assert_no_error(error);
                f->stdin_pipe = g_object_ref(g_subprocess_get_stdin_pipe(f->proc));
                f->hosts = g_ptr_array_new_with_free_func((GDestroyNotify)agent_free);
                f->kinds = g_ptr_array_new_with_free_func(g_free);
                in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(f->proc));
                line = g_data_input_stream_read_line_utf8(in, NULL, NULL, &error);
                g_assert_no_error(error);
                g_assert_nonnull(line);
                want = g_strdup_printf("host 0 http://127.0.0.1:%u/ ", p);
                g_assert_true(g_str_has_prefix(line, want));
                g_assert_true(g_str_has_suffix(line, " shared"));
                ready = g_data_input_stream_read_line_utf8(in, NULL, NULL, &error);
                g_assert_cmpstr(ready, ==, "ready 1");
        }
        stop_and_wait(f->proc);
        fleet_free(f);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/fleetsim/same-answers", test_same_answers);
        g_test_add_func("/fleetsim/driver-change", test_driver_change);
        g_test_add_func("/fleetsim/options", test_options);
        g_test_add_func("/fleetsim/base-port", test_base_port);
        return g_test_run();
}
