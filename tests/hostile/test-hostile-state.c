/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hostile state (issue 11): the files hostdev keeps between runs under faults and races.
 *   - the busy message always names the lock holder's pid;
 *   - concurrent `hostdev persist add/remove` never lose a udev rule;
 *   - a journal that cannot be recovered blocks only its own groups, stray or unparseable
 *     files in the journal directory are quarantined, counts read from it are bounded;
 *   - a VM start killed at any step, or whose record cannot be written, never leaves a device
 *     on vfio-pci that nothing will give back (the agent over HTTP, sim backend,
 *     test:///default).
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "testlib.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"
#define USB "0000:00:14.0"
#define RULES "etc/udev/rules.d/60-hostdev-vfio.rules"
#define JOURNAL_DIR "var/lib/hostdev/journal"

static char *read_rel(const HdTestFixture *fx, const char *rel)
{
        g_autofree char *p = hd_test_path(fx, rel);
        char *data = NULL;

        if (!g_file_get_contents(p, &data, NULL, NULL))
                return NULL;
        return data;
}

static void write_rel(const HdTestFixture *fx, const char *rel, const char *data, gssize len)
{
        g_autofree char *p = hd_test_path(fx, rel);
        g_autofree char *dir = g_path_get_dirname(p);

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(p, data, len, NULL));
}

static int run_cli(const HdTestFixture *fx, const char *const *args, char **err)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

        g_ptr_array_add(argv, (gpointer) "--root");
        g_ptr_array_add(argv, fx->root);
        for (const char *const *a = args; *a; a++)
                g_ptr_array_add(argv, (gpointer)*a);
        g_ptr_array_add(argv, NULL);
        return hd_test_run_cli((const char *const *)argv->pdata, NULL, NULL, err);
}

/* ---- the busy message names the holder ---------------------------------------------------- */

/* A holder that has taken the group lock but not yet written its pid into the file (the
 * window between flock() and write()): the contender still names it. */
static void test_lock_holder_pid(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autofree char *dir = hd_test_path(fx, "run/hostdev");
        g_autofree char *path = hd_test_path(fx, "run/hostdev/group-1.lock");
        g_autofree char *expect = g_strdup_printf("(pid %d)", (int)getpid());
        g_autoptr(GArray) groups = g_array_new(FALSE, FALSE, sizeof(int));
        g_autoptr(GError) error = NULL;
        HdGroupLocks *locks;
        int group = 1;
        int fd;

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(flock(fd, LOCK_EX | LOCK_NB), ==, 0); /* locked, file still empty */
        g_array_append_val(groups, group);
        locks = hd_group_locks_acquire(ctx, groups, &error);
        g_assert_null(locks);
        g_assert_error(error, HD_ERROR, HD_ERROR_BUSY);
        g_test_message("%s", error->message);
        g_assert_null(strstr(error->message, "unknown"));
        g_assert_nonnull(strstr(error->message, expect));
        g_clear_error(&error);

        /* a stale pid left in the file by a holder that is gone is not named either */
        g_assert_cmpint(ftruncate(fd, 0), ==, 0);
        g_assert_cmpint(pwrite(fd, "999999999\n", 10, 0), ==, 10);
        locks = hd_group_locks_acquire(ctx, groups, &error);
        g_assert_null(locks);
        g_assert_nonnull(strstr(error->message, expect));
        g_clear_error(&error);
        close(fd);

        /* released: taken at once, and the holder's pid is in the file while held */
        locks = hd_group_locks_acquire(ctx, groups, &error);
        g_assert_no_error(error);
        {
                g_autofree char *text = NULL;
                g_autofree char *mine = g_strdup_printf("%d\n", (int)getpid());
                g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
                g_assert_cmpstr(text, ==, mine);
        }
        hd_group_locks_release(locks);
}

/* ---- concurrent persist ------------------------------------------------------------------- */

#define PERSIST_ROUNDS 20

/* The devices `persist add --group --force --force` accepts (issue 12: persist is checked as
 * detach is; bridges and the root filesystem's controller are refused whatever the force). */
static GPtrArray *endpoint_addresses(const HdTestFixture *fx)
{
        g_autofree char *dir = hd_test_path(fx, "sys/bus/pci/devices");
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
        const HdBindOptions opts = { .group = TRUE, .force = 2 };
        const char *name;

        g_assert_nonnull(d);
        hd_ctx_set_dry_run(ctx, TRUE);
        while ((name = g_dir_read_name(d))) {
                HdAddress a = hd_test_address(name);
                g_autoptr(HdBindReport) r = hd_bind_persist(ctx, &a, 1, &opts, NULL);
                if (r)
                        g_ptr_array_add(out, g_strdup(name));
        }
        g_ptr_array_sort(out, (GCompareFunc)g_strcmp0);
        return out;
}

/* Launch `hostdev --root R persist VERB ADDR` for every address at once; wait for all. */
static void persist_all_at_once(const HdTestFixture *fx, const char *verb, GPtrArray *addrs)
{
        const char *bin = g_getenv("HOSTDEV_CLI");
        g_autoptr(GPtrArray) procs = g_ptr_array_new_with_free_func(g_object_unref);

        g_assert_nonnull(bin);
        for (guint i = 0; i < addrs->len; i++) {
                g_autoptr(GError) error = NULL;
                /* add: "--group --force --force"; remove: the list ends at the NULL */
                gboolean add = strcmp(verb, "add") == 0;
                GSubprocess *p = g_subprocess_new(
                        G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, bin, "--root", fx->root,
                        "persist", verb, (const char *)addrs->pdata[i], add ? "--group" : NULL,
                        "--force", "--force", NULL);
                g_assert_no_error(error);
                g_ptr_array_add(procs, p);
        }
        for (guint i = 0; i < procs->len; i++) {
                g_autoptr(GError) error = NULL;
                g_assert_true(g_subprocess_wait_check(procs->pdata[i], NULL, &error));
                g_assert_no_error(error);
        }
}

static void test_persist_concurrent(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(GPtrArray) addrs = endpoint_addresses(fx);

        g_assert_cmpuint(addrs->len, >=, 6);
        for (guint round = 0; round < PERSIST_ROUNDS; round++) {
                g_autofree char *rules = NULL;

                persist_all_at_once(fx, "add", addrs);
                rules = read_rel(fx, RULES);
                g_assert_nonnull(rules);
                for (guint i = 0; i < addrs->len; i++) {
                        g_autofree char *rule =
                            g_strdup_printf("KERNEL==\"%s\"", (char *)addrs->pdata[i]);
                        if (!strstr(rules, rule))
                                g_error("round %u: %s is persisted but the boot rule lacks it:\n%s",
                                        round, (char *)addrs->pdata[i], rules);
                }
                persist_all_at_once(fx, "remove", addrs);
                g_free(rules);
                rules = read_rel(fx, RULES);
                if (rules)
                        g_error("round %u: every binding was removed, but the rule stays:\n%s",
                                round, rules);
        }
}

/* ---- the agent -------------------------------------------------------------------------- */

typedef struct {
        GSubprocess *proc;
        char *url;
        char *token;
        char *log;
        SoupSession *session;
} Daemon;

static void die_with_parent(gpointer data)
{
        prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* hostdevd on @fx (sim backend, libvirt @uri, a loopback port) with @env added. */
static Daemon *daemon_start_uri(const HdTestFixture *fx, const char *const *env, const char *uri)
{
        const char *bin = g_getenv("HOSTDEVD");
        g_autoptr(GSubprocessLauncher) l =
            g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
        g_autoptr(GError) error = NULL;
        g_autoptr(GDataInputStream) in = NULL;
        g_autofree char *line = NULL;
        g_autofree char *token_path = hd_test_path(fx, "var/lib/hostdev/agent.token");
        Daemon *d = g_new0(Daemon, 1);

        g_assert_nonnull(bin);
        d->log = hd_test_path(fx, "hostdevd.log");
        g_subprocess_launcher_set_stderr_file_path(l, d->log);
        g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
        for (const char *const *e = env; e && *e; e++) {
                g_auto(GStrv) kv = g_strsplit(*e, "=", 2);
                g_subprocess_launcher_setenv(l, kv[0], kv[1], TRUE);
        }
        d->proc = g_subprocess_launcher_spawn(l, &error, bin, "--root", fx->root, "--backend",
                                              "sim", "--libvirt-uri", uri, "--listen",
                                              "127.0.0.1:0", "-v", NULL);
        g_assert_no_error(error);
        in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(d->proc));
        line = g_data_input_stream_read_line_utf8(in, NULL, NULL, &error);
        g_assert_no_error(error);
        if (!line || !g_str_has_prefix(line, "listening ")) {
                g_autofree char *log = NULL;
                g_file_get_contents(d->log, &log, NULL, NULL);
                g_error("hostdevd did not start: %s", log);
        }
        d->url = g_strdup(line + strlen("listening "));
        if (g_str_has_suffix(d->url, "/"))
                d->url[strlen(d->url) - 1] = '\0';
        g_assert_true(g_file_get_contents(token_path, &d->token, NULL, NULL));
        g_strstrip(d->token);
        d->session = soup_session_new_with_options("timeout", 30, NULL);
        return d;
}

static Daemon *daemon_start(const HdTestFixture *fx, const char *const *env)
{
        return daemon_start_uri(fx, env, "test:///default");
}

static char *daemon_log(const Daemon *d)
{
        char *log = NULL;

        g_file_get_contents(d->log, &log, NULL, NULL);
        return log ? log : g_strdup("");
}

static void daemon_free(Daemon *d)
{
        g_clear_object(&d->proc);
        g_clear_object(&d->session);
        g_free(d->url);
        g_free(d->token);
        g_free(d->log);
        g_free(d);
}

/* SIGTERM: must exit 0. */
static void daemon_stop(Daemon *d)
{
        g_autoptr(GError) error = NULL;

        g_subprocess_send_signal(d->proc, SIGTERM);
        g_assert_true(g_subprocess_wait(d->proc, NULL, &error));
        if (!g_subprocess_get_if_exited(d->proc) || g_subprocess_get_exit_status(d->proc) != 0) {
                g_autofree char *log = daemon_log(d);
                g_error("hostdevd did not exit 0 on SIGTERM: %s", log);
        }
        daemon_free(d);
}

/* One request with the full token; the status, and the body in *body when asked. */
static guint request(Daemon *d, const char *method, const char *path, const char *body,
                     char **reply)
{
        g_autofree char *uri = g_strconcat(d->url, path, NULL);
        g_autofree char *auth = g_strconcat("Bearer ", d->token, NULL);
        g_autoptr(SoupMessage) msg = soup_message_new(method, uri);
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) bytes = NULL;

        soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization", auth);
        if (body) {
                g_autoptr(GBytes) b = g_bytes_new(body, strlen(body));
                soup_message_set_request_body_from_bytes(msg, "application/json", b);
        }
        bytes = soup_session_send_and_read(d->session, msg, NULL, &error);
        if (reply)
                *reply = bytes ? g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes))
                               : g_strdup(error ? error->message : "");
        return error ? 0 : soup_message_get_status(msg);
}

static guint pending_journals(const HdTestFixture *fx)
{
        g_autofree char *dir = hd_test_path(fx, JOURNAL_DIR);
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;
        guint n = 0;

        while (d && (name = g_dir_read_name(d)))
                if (strcmp(name, "quarantine") != 0)
                        n++;
        return n;
}

static void assert_driver(const HdTestFixture *fx, const char *addr, const char *driver)
{
        g_autofree char *now = hd_test_driver(fx, addr);

        if (g_strcmp0(now, driver) != 0)
                g_error("%s is on %s, expected %s", addr, now ? now : "no driver", driver);
}

#define VM_DEFINE                                                                                  \
        "{\"name\": \"gpu-vm\", \"memory_mib\": 1024, \"vcpus\": 1, \"hostdevs\": [\"" GPU         \
        "\", \"" AUDIO "\"]}"
#define VMS_FILE "var/lib/hostdev/agent/vms.ini"

/* The invariant: a device of the VM that is on vfio-pci is named by a pending journal (which
 * recovery rolls back) or by the VM record (which the agent gives back). */
static void assert_nothing_lost(const HdTestFixture *fx, const char *when)
{
        const char *devs[] = {GPU, AUDIO};
        g_autofree char *record = read_rel(fx, VMS_FILE);

        if (pending_journals(fx) > 0)
                return;
        for (guint i = 0; i < G_N_ELEMENTS(devs); i++) {
                g_autofree char *drv = hd_test_driver(fx, devs[i]);
                if (g_strcmp0(drv, "vfio-pci") == 0 && !(record && strstr(record, devs[i])))
                        g_error("%s: %s is on vfio-pci and nothing records it (record: %s)", when,
                                devs[i], record ? record : "none");
        }
}

/* Kill the agent (HOSTDEV_CRASH_AT) at every step of a VM start, restart it, and check that
 * nothing stays on vfio-pci that nothing gives back: after the restart every device is on its
 * host driver again (the test driver forgets the VM with the process: it is not running). */
static void test_vm_start_kill_loop(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        guint kills = 0;
        gboolean started = FALSE;

        for (guint n = 1; n <= 30 && !started; n++) {
                g_autofree char *crash = g_strdup_printf("HOSTDEV_CRASH_AT=write:%u", n);
                const char *env[] = {crash, NULL};
                g_autofree char *reply = NULL;
                g_autofree char *when = g_strdup_printf("killed at step %u", n);
                Daemon *d = daemon_start(fx, env);
                guint status;

                g_assert_cmpuint(request(d, "POST", "/v1/vms", VM_DEFINE, NULL), ==, 200);
                status = request(d, "POST", "/v1/vms/gpu-vm/start", "{}", &reply);
                if (status == 200) {
                        g_test_message("the start makes %u crash points", n - 1);
                        started = TRUE;
                        assert_driver(fx, GPU, "vfio-pci");
                        daemon_stop(d);
                } else {
                        g_autoptr(GError) error = NULL;
                        g_assert_true(g_subprocess_wait(d->proc, NULL, &error));
                        if (!g_subprocess_get_if_signaled(d->proc)) {
                                g_autofree char *log = daemon_log(d);
                                g_error("step %u: the start answered %u (%s) without a crash: %s",
                                        n, status, reply, log);
                        }
                        g_assert_cmpint(g_subprocess_get_term_sig(d->proc), ==, SIGKILL);
                        kills++;
                        assert_nothing_lost(fx, when);
                        daemon_free(d);
                }
                /* the next agent: journal recovery, then the VM records */
                d = daemon_start(fx, NULL);
                {
                        g_autofree char *record = read_rel(fx, VMS_FILE);
                        g_autofree char *gpu = hd_test_driver(fx, GPU);
                        if (g_strcmp0(gpu, "nouveau") != 0 ||
                            (record && strstr(record, "gpu-vm"))) {
                                g_autofree char *log = daemon_log(d);
                                g_error("%s: after a restart %s is on %s, record: %s\n%s", when,
                                        GPU, gpu ? gpu : "no driver", record ? record : "none",
                                        log);
                        }
                }
                assert_driver(fx, GPU, "nouveau");
                assert_driver(fx, AUDIO, "snd_hda_intel");
                g_assert_cmpuint(pending_journals(fx), ==, 0);
                daemon_stop(d);
        }
        g_assert_true(started);
        g_assert_cmpuint(kills, >=, 8);
}

/* The agent was killed between the move and the record of a start that went through: the VM
 * runs (libvirt's test driver loads it running from a file), the record says "starting". The
 * next agent completes the record instead of taking the devices from a running VM, and gives
 * them back when the VM is destroyed. */
static void test_vm_interrupted_start_of_running_vm(void)
{
        static const char node[] =
            "<node><domain type='test'><name>gpu-vm</name><memory>1048576</memory>"
            "<vcpu>1</vcpu><os><type>hvm</type></os><devices>"
            "<hostdev mode='subsystem' type='pci' managed='no'><source><address "
            "domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>"
            "<hostdev mode='subsystem' type='pci' managed='no'><source><address "
            "domain='0x0000' bus='0x01' slot='0x00' function='0x1'/></source></hostdev>"
            "</devices></domain></node>";
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *detach[] = {"detach", GPU, "--group", NULL};
        g_autofree char *node_path = hd_test_path(fx, "libvirt-node.xml");
        g_autofree char *uri = g_strconcat("test://", node_path, NULL);
        g_autofree char *reply = NULL;
        g_autofree char *record = NULL;
        Daemon *d;

        write_rel(fx, "libvirt-node.xml", node, -1);
        g_assert_cmpint(run_cli(fx, detach, NULL), ==, 0);
        write_rel(fx, VMS_FILE, "[vm gpu-vm]\nstate=starting\ndetached=" GPU ";" AUDIO ";\n", -1);
        d = daemon_start_uri(fx, NULL, uri);
        assert_driver(fx, GPU, "vfio-pci");
        assert_driver(fx, AUDIO, "vfio-pci");
        record = read_rel(fx, VMS_FILE);
        g_assert_nonnull(strstr(record, "state=started"));
        g_assert_cmpuint(request(d, "GET", "/v1/vms/gpu-vm", NULL, &reply), ==, 200);
        g_assert_nonnull(strstr(reply, "\"running\""));
        g_assert_nonnull(strstr(reply, "\"detached_for_vm\":[\"" GPU "\",\"" AUDIO "\"]"));
        g_free(reply);
        g_assert_cmpuint(request(d, "POST", "/v1/vms/gpu-vm/destroy", "{}", &reply), ==, 200);
        assert_driver(fx, GPU, "nouveau");
        assert_driver(fx, AUDIO, "snd_hda_intel");
        daemon_stop(d);
}

/* A "starting" record found while the agent runs (a start whose clean-up could not write the
 * record) is settled before the next operation on that VM: the VM is not running, so the
 * devices it names that are on vfio-pci go back, whatever the operation then answers. */
static void test_vm_settled_before_operation(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *detach[] = {"detach", GPU, "--group", NULL};
        g_autofree char *reply = NULL;
        g_autofree char *record = NULL;
        Daemon *d = daemon_start(fx, NULL);

        g_assert_cmpuint(request(d, "POST", "/v1/vms", VM_DEFINE, NULL), ==, 200);
        g_assert_cmpint(run_cli(fx, detach, NULL), ==, 0);
        write_rel(fx, VMS_FILE, "[vm gpu-vm]\nstate=starting\ndetached=" GPU ";" AUDIO ";\n", -1);
        /* the VM is not running: stop is refused, after the devices went back */
        g_assert_cmpuint(request(d, "POST", "/v1/vms/gpu-vm/stop", "{}", &reply), ==, 409);
        assert_driver(fx, GPU, "nouveau");
        assert_driver(fx, AUDIO, "snd_hda_intel");
        record = read_rel(fx, VMS_FILE);
        g_assert_true(!record || !strstr(record, "gpu-vm"));
        daemon_stop(d);
}

/* The record cannot be written at all (its directory is a file: even root cannot write it):
 * the start is refused before anything moves. */
static void test_vm_start_record_unwritable(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autofree char *reply = NULL;
        Daemon *d;

        write_rel(fx, "var/lib/hostdev/agent", "not a directory\n", -1);
        d = daemon_start(fx, NULL);
        g_assert_cmpuint(request(d, "POST", "/v1/vms", VM_DEFINE, NULL), ==, 200);
        g_assert_cmpuint(request(d, "POST", "/v1/vms/gpu-vm/start", "{}", &reply), ==, 500);
        g_test_message("%s", reply);
        g_assert_nonnull(strstr(reply, "nothing was moved"));
        assert_driver(fx, GPU, "nouveau");
        assert_driver(fx, AUDIO, "snd_hda_intel");
        g_assert_cmpuint(pending_journals(fx), ==, 0);
        daemon_stop(d);

        /* the same through the backend's fault injection */
        {
                g_autofree char *not_dir = hd_test_path(fx, "var/lib/hostdev/agent");
                g_assert_cmpint(g_unlink(not_dir), ==, 0);
        }
        {
                const char *env[] = {"HOSTDEV_SIM_FAIL=write@" VMS_FILE "=EIO", NULL};
                g_autofree char *r2 = NULL;
                d = daemon_start(fx, env);
                g_assert_cmpuint(request(d, "POST", "/v1/vms", VM_DEFINE, NULL), ==, 200);
                g_assert_cmpuint(request(d, "POST", "/v1/vms/gpu-vm/start", "{}", &r2), ==, 500);
                g_assert_nonnull(strstr(r2, "nothing was moved"));
                assert_driver(fx, GPU, "nouveau");
                assert_driver(fx, AUDIO, "snd_hda_intel");
                daemon_stop(d);
        }
}

/* The intent is recorded, the devices move, and then the result cannot be written: the move
 * is undone, and the start fails saying so. */
static void test_vm_start_result_unwritable(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *env[] = {"HOSTDEV_VM_RECORD_FAIL=started", NULL};
        g_autofree char *reply = NULL;
        g_autofree char *record = NULL;
        Daemon *d = daemon_start(fx, env);

        g_assert_cmpuint(request(d, "POST", "/v1/vms", VM_DEFINE, NULL), ==, 200);
        g_assert_cmpuint(request(d, "POST", "/v1/vms/gpu-vm/start", "{}", &reply), ==, 500);
        g_test_message("%s", reply);
        g_assert_nonnull(strstr(reply, "given back"));
        assert_driver(fx, GPU, "nouveau");
        assert_driver(fx, AUDIO, "snd_hda_intel");
        record = read_rel(fx, VMS_FILE);
        g_assert_true(!record || !strstr(record, "gpu-vm"));
        g_free(reply);
        reply = NULL;
        g_assert_cmpuint(request(d, "GET", "/v1/vms/gpu-vm", NULL, &reply), ==, 200);
        g_assert_nonnull(strstr(reply, "\"shut off\""));
        g_assert_cmpuint(pending_journals(fx), ==, 0);
        daemon_stop(d);
}

/* ---- journals ----------------------------------------------------------------------------- */

static guint quarantined(const HdTestFixture *fx, const char *dir)
{
        g_autofree char *rel = g_strdup_printf("%s/quarantine", dir);
        g_autofree char *path = hd_test_path(fx, rel);
        g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
        guint n = 0;

        while (d && g_dir_read_name(d))
                n++;
        return n;
}

/* A journal that cannot be rolled back yet (vfio-pci will not let go of the GPU) refuses only
 * operations on its own group, 409 with its path and `hostdev recover`; the USB controller in
 * another group is detached as usual. */
static void test_journal_stuck_blocks_only_its_groups(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *detach[] = {"--root", fx->root, "detach", GPU, "--group", NULL};
        const char *crash[] = {"HOSTDEV_CRASH_AT=write:4", NULL};
        const char *stuck[] = {"HOSTDEV_SIM_FAIL=unbind@" GPU "=EBUSY", NULL};
        g_autofree char *reply = NULL;
        Daemon *d;

        g_assert_cmpint(hd_test_run_cli(detach, crash, NULL, NULL), ==, 128 + SIGKILL);
        g_assert_cmpuint(pending_journals(fx), ==, 1);
        assert_driver(fx, GPU, "vfio-pci"); /* mid-way: module, override, unbind, probe */

        d = daemon_start(fx, stuck);
        g_assert_cmpuint(pending_journals(fx), ==, 1); /* could not be rolled back */
        g_assert_cmpuint(request(d, "POST", "/v1/devices/" USB "/detach", "{}", &reply), ==, 200);
        assert_driver(fx, USB, "vfio-pci");
        g_free(reply);
        g_assert_cmpuint(request(d, "POST", "/v1/devices/" USB "/attach", "{}", &reply), ==, 200);
        assert_driver(fx, USB, "xhci_hcd");
        g_free(reply);
        g_assert_cmpuint(
            request(d, "POST", "/v1/devices/" AUDIO "/detach", "{\"group\":true}", &reply), ==,
            409);
        g_test_message("%s", reply);
        g_assert_nonnull(strstr(reply, "\"busy\""));
        g_assert_nonnull(strstr(reply, "/var/lib/hostdev/journal/"));
        g_assert_nonnull(strstr(reply, "hostdev recover"));
        daemon_stop(d);

        /* once the cause is gone, recovery puts the group back and it works again */
        {
                const char *recover[] = {"recover", NULL};
                const char *again[] = {"detach", GPU, "--group", NULL};
                g_assert_cmpint(run_cli(fx, recover, NULL), ==, 0);
                assert_driver(fx, GPU, "nouveau");
                assert_driver(fx, AUDIO, "snd_hda_intel");
                g_assert_cmpint(run_cli(fx, again, NULL), ==, 0);
                assert_driver(fx, GPU, "vfio-pci");
        }
}

/* Stray files in the journal directory (text, a FIFO, a directory, a symlink out of the root)
 * block nothing: they are moved into journal/quarantine/, never opened, never deleted. */
static void test_journal_stray_files(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autofree char *dir = hd_test_path(fx, JOURNAL_DIR);
        g_autofree char *fifo = g_build_filename(dir, "a-fifo", NULL);
        g_autofree char *sub = g_build_filename(dir, "a-directory", NULL);
        g_autofree char *link = g_build_filename(dir, "a-link", NULL);
        g_autofree char *err = NULL;
        const char *detach[] = {"detach", USB, NULL};

        write_rel(fx, JOURNAL_DIR "/README", "notes of an admin\n", -1);
        write_rel(fx, JOURNAL_DIR "/empty", "", 0);
        g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
        g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
        g_assert_cmpint(symlink("/etc/passwd", link), ==, 0);

        g_assert_cmpint(run_cli(fx, detach, &err), ==, 0);
        assert_driver(fx, USB, "vfio-pci");
        g_assert_cmpuint(pending_journals(fx), ==, 0);
        g_assert_cmpuint(quarantined(fx, JOURNAL_DIR), ==, 5);
        g_assert_nonnull(strstr(err, "quarantine"));
}

/* A 70-byte journal claiming 2e9 steps is not read as one: recovery and every command go on
 * in bounded memory (the CLI runs with a 1 GiB address-space limit where the sanitizers allow
 * it), and the file is quarantined. */
static void limit_memory(gpointer data)
{
#if !defined(__SANITIZE_ADDRESS__)
        struct rlimit rl = {1u << 30, 1u << 30};
        (void)setrlimit(RLIMIT_AS, &rl);
#endif
        prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void test_journal_huge_counts(void)
{
        static const char *const journals[] = {
            "[transaction]\noperation=detach\nstate=writing\ndevices=0\nsteps=2000000000\n",
            "[transaction]\noperation=detach\nstate=writing\ndevices=2000000000\nsteps=0\n",
            "[transaction]\noperation=attach\nstate=writing\ndevices=-5\nsteps=-1\n",
            "[transaction]\noperation=detach\ndevices=3\nsteps=0\n[device 0]\n",
            "[transaction]\noperation=detach\ndevices=1\nsteps=0\n[device 0]\naddress=" GPU
            "\niommu_group=-7\n",
        };
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        const char *bin = g_getenv("HOSTDEV_CLI");

        g_assert_cmpuint(strlen(journals[0]), <=, 72);
        for (guint i = 0; i < G_N_ELEMENTS(journals); i++) {
                g_autofree char *rel = g_strdup_printf(JOURNAL_DIR "/1-%u-0", i);
                write_rel(fx, rel, journals[i], -1);
        }
        for (guint round = 0; round < 2; round++) {
                g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(
                    G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
                g_autoptr(GSubprocess) p = NULL;
                g_autoptr(GError) error = NULL;

                g_subprocess_launcher_set_child_setup(l, limit_memory, NULL, NULL);
                p = round == 0 ? g_subprocess_launcher_spawn(l, &error, bin, "--root", fx->root,
                                                             "recover", NULL)
                               : g_subprocess_launcher_spawn(l, &error, bin, "--root", fx->root,
                                                             "detach", USB, NULL);
                g_assert_no_error(error);
                g_assert_true(g_subprocess_wait(p, NULL, &error));
                if (!g_subprocess_get_if_exited(p))
                        g_error("round %u: the CLI died of signal %d", round,
                                g_subprocess_get_term_sig(p));
                g_assert_cmpint(g_subprocess_get_exit_status(p), ==, 0);
                g_assert_cmpuint(pending_journals(fx), ==, 0);
                g_assert_cmpuint(quarantined(fx, JOURNAL_DIR), ==, G_N_ELEMENTS(journals));
        }
        assert_driver(fx, USB, "vfio-pci");
        assert_driver(fx, GPU, "nouveau");
}

/* An origins file that is not a key file is kept (quarantined), not silently overwritten by
 * the next detach with the origins it held lost. */
static void test_origins_unparseable(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        static const char garbage[] = "[0000:01:00.0\ndriver=nouveau\n\xff\xfe not a key file\n";
        const char *detach[] = {"detach", USB, NULL};
        const char *attach[] = {"attach", USB, NULL};
        const char *attach_dry[] = {"attach", USB, "--dry-run", NULL};
        g_autofree char *origins = NULL;

        /* a dry run that reads it changes nothing, the quarantine included */
        g_assert_cmpint(run_cli(fx, detach, NULL), ==, 0);
        write_rel(fx, "var/lib/hostdev/origins", garbage, -1);
        g_assert_cmpint(run_cli(fx, attach_dry, NULL), ==, 0);
        g_assert_cmpuint(quarantined(fx, "var/lib/hostdev"), ==, 0);
        origins = read_rel(fx, "var/lib/hostdev/origins");
        g_assert_cmpstr(origins, ==, garbage);
        g_clear_pointer(&origins, g_free);
        g_assert_cmpint(run_cli(fx, attach, NULL), ==, 0);
        g_assert_cmpuint(quarantined(fx, "var/lib/hostdev"), ==, 1);

        write_rel(fx, "var/lib/hostdev/origins", garbage, -1);
        g_assert_cmpint(run_cli(fx, detach, NULL), ==, 0);
        g_assert_cmpuint(quarantined(fx, "var/lib/hostdev"), ==, 2);
        origins = read_rel(fx, "var/lib/hostdev/origins");
        g_assert_nonnull(origins);
        g_assert_nonnull(strstr(origins, "[" USB "]"));
        g_assert_nonnull(strstr(origins, "driver=xhci_hcd"));
        g_assert_cmpint(run_cli(fx, attach, NULL), ==, 0);
        assert_driver(fx, USB, "xhci_hcd");

        /* a FIFO in its place is never opened (it would block), only moved away */
        {
                g_autofree char *path = hd_test_path(fx, "var/lib/hostdev/origins");
                (void)g_unlink(path);
                g_assert_cmpint(mkfifo(path, 0600), ==, 0);
                g_assert_cmpint(run_cli(fx, detach, NULL), ==, 0);
                g_assert_cmpuint(quarantined(fx, "var/lib/hostdev"), ==, 3);
                assert_driver(fx, USB, "vfio-pci");
        }
}

/* The VM record is read like any input: a record naming something that is not an address, or
 * more devices than a VM can have, is quarantined, not acted on. */
static void test_vm_record_hostile(void)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new("desktop");
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GString) many = g_string_new("[vm big]\nstate=started\ndetached=");
        g_autoptr(GPtrArray) records = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) devs = g_ptr_array_new();

        write_rel(fx, VMS_FILE, "[vm x]\nstate=started\ndetached=../../etc/passwd;\n", -1);
        /* readers that only show it (a read-only agent) leave it where it is */
        g_assert_null(hd_vm_record_get(ctx, "x"));
        g_assert_null(hd_vm_record_holding(ctx, "../../etc/passwd"));
        g_assert_cmpuint(quarantined(fx, "var/lib/hostdev/agent"), ==, 0);
        records = hd_vm_records_load(ctx);
        g_assert_cmpuint(records->len, ==, 0);
        g_assert_cmpuint(quarantined(fx, "var/lib/hostdev/agent"), ==, 1);
        g_clear_pointer(&records, g_ptr_array_unref);

        for (guint i = 0; i < HD_VM_RECORD_MAX_DEVICES + 1; i++)
                g_string_append_printf(many, "0000:%02x:%02x.0;", i / 32, i % 32);
        g_string_append(many, "\n");
        write_rel(fx, VMS_FILE, many->str, -1);
        records = hd_vm_records_load(ctx);
        g_assert_cmpuint(records->len, ==, 0);
        g_assert_cmpuint(quarantined(fx, "var/lib/hostdev/agent"), ==, 2);
        g_clear_pointer(&records, g_ptr_array_unref);

        /* a FIFO in its place is never opened (it would block), only moved away */
        {
                g_autofree char *path = hd_test_path(fx, VMS_FILE);
                g_assert_cmpint(mkfifo(path, 0600), ==, 0);
                g_assert_null(hd_vm_record_get(ctx, "x"));
                records = hd_vm_records_load(ctx);
                g_assert_cmpuint(records->len, ==, 0);
                g_assert_cmpuint(quarantined(fx, "var/lib/hostdev/agent"), ==, 3);
                g_clear_pointer(&records, g_ptr_array_unref);
        }

        /* a good record round-trips, with its state */
        g_ptr_array_add(devs, (gpointer)GPU);
        g_assert_true(hd_vm_record_set(ctx, "vm-1", HD_VM_RECORD_STARTING, devs, &error));
        g_assert_no_error(error);
        records = hd_vm_records_load(ctx);
        g_assert_cmpuint(records->len, ==, 1);
        g_assert_cmpint(((HdVmRecord *)records->pdata[0])->state, ==, HD_VM_RECORD_STARTING);
        {
                g_autofree char *who = hd_vm_record_holding(ctx, GPU);
                g_assert_cmpstr(who, ==, "vm-1");
        }
        g_assert_true(hd_vm_record_drop(ctx, "vm-1", &error));
        g_clear_pointer(&records, g_ptr_array_unref);
        records = hd_vm_records_load(ctx);
        g_assert_cmpuint(records->len, ==, 0);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/hostile-state/lock-holder-pid", test_lock_holder_pid);
        g_test_add_func("/hostile-state/persist-concurrent", test_persist_concurrent);
        g_test_add_func("/hostile-state/vm-start-kill-loop", test_vm_start_kill_loop);
        g_test_add_func("/hostile-state/vm-interrupted-start-of-running-vm",
                        test_vm_interrupted_start_of_running_vm);
        g_test_add_func("/hostile-state/vm-settled-before-operation",
                        test_vm_settled_before_operation);
        g_test_add_func("/hostile-state/vm-start-record-unwritable",
                        test_vm_start_record_unwritable);
        g_test_add_func("/hostile-state/vm-start-result-unwritable",
                        test_vm_start_result_unwritable);
        g_test_add_func("/hostile-state/journal-stuck-blocks-only-its-groups",
                        test_journal_stuck_blocks_only_its_groups);
        g_test_add_func("/hostile-state/journal-stray-files", test_journal_stray_files);
        g_test_add_func("/hostile-state/journal-huge-counts", test_journal_huge_counts);
        g_test_add_func("/hostile-state/origins-unparseable", test_origins_unparseable);
        g_test_add_func("/hostile-state/vm-record-hostile", test_vm_record_hostile);
        return g_test_run();
}
